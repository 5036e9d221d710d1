"""Incremental decoding and sampling."""
