class VerificationError(Exception):
    """A webhook that must be refused: the message is a short reason, safe to return (4xx)."""
