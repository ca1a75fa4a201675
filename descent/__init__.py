"""Code both sides of descent share: settings and the Redis store. Imports neither torch nor flask."""
