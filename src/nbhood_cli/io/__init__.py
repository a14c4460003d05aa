"""Reading and writing layers and tables: the edges every command goes through."""

from nbhood_cli.io.read import (
    Layer,
    NoGeometry,
    ReadOptions,
    load_layer,
    load_table,
    read_layer,
    split_source,
)
from nbhood_cli.io.tables import read_table
from nbhood_cli.io.write import atomic_folder, write_layer, write_table, write_text

__all__ = ["Layer", "NoGeometry", "load_table", "ReadOptions", "atomic_folder", "load_layer", "read_layer", "read_table",
           "split_source", "write_layer", "write_table", "write_text"]
