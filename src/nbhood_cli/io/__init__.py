"""Reading and writing layers and tables: the edges every command goes through."""

from nbhood_cli.io.read import (
    Layer,
    NoGeometry,
    ReadOptions,
    load_layer,
    load_table,
    parse_source,
    read_layer,
)
from nbhood_cli.io.tables import read_table
from nbhood_cli.io.write import atomic_folder, write_layer, write_table, write_text

__all__ = ["Layer", "NoGeometry", "ReadOptions", "atomic_folder", "load_layer", "load_table",
           "parse_source", "read_layer", "read_table", "write_layer", "write_table", "write_text"]
