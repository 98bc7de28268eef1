"""Bundled sample data: the feed the data source imports when FEED_URL is empty."""
