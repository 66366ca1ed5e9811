"""Sales services, one module per document type; shared pieces in ``common``."""
