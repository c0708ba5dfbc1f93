"""Session fixture: the spark server engine tests run against (filled in below)."""
