"""Group names: lanes, candidate groups and user roles share one spelling."""


def normalize_group(name: str) -> str:
    """'Sales Manager' and 'sales_manager' are the same group."""
    return "_".join(name.strip().lower().split())
