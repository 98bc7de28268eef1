"""A Productsup CDE connector: `python main.py <mode>` runs one mode against the Container API."""
