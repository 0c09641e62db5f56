"""The composition root: configuration, logging, the session builder, the daemon and
the offline renderer. Only this layer (and cli.py) wires dsp, engine and control together."""
