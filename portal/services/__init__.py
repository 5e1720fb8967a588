"""Business rules. Services take an explicit actor and validated values, flush, and raise
``DomainError``s; they never touch ``request``, ``flash`` or ``current_user``."""
