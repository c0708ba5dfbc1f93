"""Session fixture: the postgres server engine tests run against (filled in below)."""
