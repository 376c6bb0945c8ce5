"""Generated from protos/medsettle/v1; do not edit."""
