"""Recorded and synthesized BLE heart-rate traces (t,hex) for bassd ble replay and tests."""
