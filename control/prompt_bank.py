"""The emotion prompt bank, re-exported from its modules for existing importers.

:mod:`~bassd.control.prompt_schema` (prompt model, categories, config),
:mod:`~bassd.control.prompt_selection` (:class:`PromptBank`),
:mod:`~bassd.control.prompt_loading` (files) and
:mod:`~bassd.control.prompt_mapping` (prompt -> renderer parameters).
New code should import from those modules directly.
"""

from __future__ import annotations

from bassd.control.prompt_loading import (
    SHIPPED,
    load_configured_bank,
    load_prompt_bank,
    load_shipped_prompt_bank,
    parse_prompt_bank,
)
from bassd.control.prompt_mapping import (
    CATEGORY_MOOD,
    INSTRUMENT_WORDS,
    MOOD_WORDS,
    RENDERER_KEYS,
    Voicing,
    renderer_params,
)
from bassd.control.prompt_schema import (
    CATEGORIES,
    CORE_CATEGORIES,
    DEFAULT_STATE_CATEGORIES,
    FIELDS,
    POLICIES,
    STATES,
    Policy,
    Prompt,
    PromptBankError,
    PromptsConfig,
)
from bassd.control.prompt_selection import PromptBank

__all__ = [
    "CATEGORIES",
    "CATEGORY_MOOD",
    "CORE_CATEGORIES",
    "DEFAULT_STATE_CATEGORIES",
    "FIELDS",
    "INSTRUMENT_WORDS",
    "MOOD_WORDS",
    "POLICIES",
    "RENDERER_KEYS",
    "SHIPPED",
    "STATES",
    "Policy",
    "Prompt",
    "PromptBank",
    "PromptBankError",
    "PromptsConfig",
    "Voicing",
    "load_configured_bank",
    "load_prompt_bank",
    "load_shipped_prompt_bank",
    "parse_prompt_bank",
    "renderer_params",
]
