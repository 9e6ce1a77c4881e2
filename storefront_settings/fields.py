"""An encrypted text field: authenticated encryption (Fernet: AES-128-CBC with HMAC-SHA256)
keyed by FIELD_ENCRYPTION_KEY. Values are opaque in the database and cannot be filtered on."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


class DecryptionError(Exception):
    """The value was not encrypted with any of the configured keys (or was tampered with)."""


class EncryptedTextField(models.TextField):
    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken as error:
            # Never include the stored value or a key in the message.
            raise DecryptionError(
                f"{self.model.__name__}.{self.name} cannot be decrypted with FIELD_ENCRYPTION_KEY"
            ) from error
