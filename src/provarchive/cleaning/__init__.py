"""Cleaning: decoding raw bytes, telling article from boilerplate, cutting passages.

Pure code: nothing here touches the archive, the catalog or the file system.
"""
