"""numpy and PIL only: grids, exports, training-run folders, dimension order. Imported by both threads."""
