"""Market data: file sources (parse, detect, validate), the store and the feed."""
