"""Video utilities: entry points that extend CompressAI's video tools."""
