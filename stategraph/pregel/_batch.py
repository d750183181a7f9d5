"""``batch`` / ``abatch``: one graph invoked on many inputs concurrently.

Mixed into ``Pregel``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence, Union


class BatchMethods:
    """``Pregel``'s batch methods."""

    def batch(
        self,
        inputs: Sequence[Any],
        config: Union[None, dict[str, Any], Sequence[dict[str, Any]]] = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """``invoke`` each input concurrently (threads), results in input order."""
        if not inputs:
            return []
        configs = list(config) if isinstance(config, (list, tuple)) else [config or {}] * len(inputs)
        if len(configs) != len(inputs):
            raise ValueError(
                f"batch() got {len(inputs)} inputs but {len(configs)} configs; pass one config "
                "or one per input."
            )

        def one(pair: tuple[Any, Any]) -> Any:
            try:
                return self.invoke(pair[0], pair[1], **kwargs)
            except Exception as error:
                if return_exceptions:
                    return error
                raise

        workers = (configs[0] or {}).get("max_concurrency") or None
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, zip(inputs, configs)))

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: Union[None, dict[str, Any], Sequence[dict[str, Any]]] = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async ``batch``."""
        configs = list(config) if isinstance(config, (list, tuple)) else [config or {}] * len(inputs)
        limit = (configs[0] or {}).get("max_concurrency") if configs else None
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(value: Any, cfg: Any) -> Any:
            try:
                if semaphore is None:
                    return await self.ainvoke(value, cfg, **kwargs)
                async with semaphore:
                    return await self.ainvoke(value, cfg, **kwargs)
            except Exception as error:
                if return_exceptions:
                    return error
                raise

        return list(await asyncio.gather(*(one(v, c) for v, c in zip(inputs, configs))))
