"""Persistence: checkpointers store a thread's checkpoints, channel values and task writes.

``base`` holds the interface and types, ``memory`` the in-process saver, ``sqlite`` the SQLite
savers (``sqlite.aio`` for asyncio) and ``serde`` the safe serializer.
"""
