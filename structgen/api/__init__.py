"""What users touch: generation, decorators, extraction, the CLI and notebook views."""

from structgen.api import display

# Notebook views for the classes of the lower layers (which cannot import this layer).
display.install()
