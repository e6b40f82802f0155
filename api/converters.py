"""Path converters of the API's URLs."""

# Ids are PostgreSQL bigints (BigAutoField).
MAX_ID = 2**63 - 1


class IdConverter:
    """A database id. Out of range, it matches no route: the path is answered 404 by the
    catch-all route before the number can reach a query or, whole, a message."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"{value} is not a database id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
