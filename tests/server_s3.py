"""Session fixture: the s3 server engine tests run against (filled in below)."""
