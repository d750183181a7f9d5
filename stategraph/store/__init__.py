"""Long-term memory: key-value stores of dict values under hierarchical namespaces.

``base`` defines ``BaseStore`` and its values; ``memory`` and ``sqlite`` implement it.
"""
