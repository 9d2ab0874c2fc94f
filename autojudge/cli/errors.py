"""The errors that are the user's to fix; the CLI prints them as one sentence, no stack trace."""

from autojudge._extras import MissingExtra
from autojudge.cache import FetchError
from autojudge.config import ConfigError
from autojudge.io import InputError
from autojudge.judges.base import JudgeError
from autojudge.models import ModelNotFoundError
from autojudge.registry import UnknownNameError

USER_ERRORS = (ConfigError, FetchError, InputError, JudgeError, MissingExtra, ModelNotFoundError,
               UnknownNameError)
