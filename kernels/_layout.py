"""Block layouts: how a block-sparse Triton attention kernel sees a token-level sparsity pattern.

Tokens are grouped (a latent frame for tile attention, a 3D tile for STA) and every group is
padded to a whole number of ``block``-token blocks, so that no block mixes two groups. A group
pattern ``allowed[g, h]`` (queries of group g see keys of group h) then becomes an exact block
pattern: each query block lists the key blocks it visits, each key block lists the query blocks
that visit it (for the backward pass). Padding keys are switched off by ``k_valid``; padding
queries are computed and thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class BlockLayout:
    """A padded, block-sparse view of one attention pattern.

    block: tokens per block (a power of two >= 16).
    q_index: (s_q_pad,) long, the original query token stored in each padded slot (any token for padding).
    q_valid: (s_q_pad,) bool, which padded query slots hold a real token.
    q_slot: (s_q,) long, the padded slot of every original query token (inverse of ``q_index``).
    k_index, k_valid: the same for keys/values; ``k_valid`` is int32 (kernel input).
    kv_blocks: (n_q_blocks, max_kv) int32, key blocks visited by each query block (0-padded).
    kv_count: (n_q_blocks,) int32, how many entries of ``kv_blocks`` are used.
    q_blocks, q_count: the transpose, (n_k_blocks, max_q) and (n_k_blocks,).
    density: fraction of the real (query, key) pairs that are attended.
    """

    block: int
    q_index: Tensor
    q_valid: Tensor
    q_slot: Tensor
    k_index: Tensor
    k_valid: Tensor
    kv_blocks: Tensor
    kv_count: Tensor
    q_blocks: Tensor
    q_count: Tensor
    density: float

    @property
    def n_q_blocks(self) -> int:
        return self.kv_blocks.shape[0]

    @property
    def n_k_blocks(self) -> int:
        return self.q_blocks.shape[0]

    @property
    def max_kv(self) -> int:
        return self.kv_blocks.shape[1]

    @property
    def max_q(self) -> int:
        return self.q_blocks.shape[1]


def _pack(allowed_blocks: Tensor) -> tuple[Tensor, Tensor]:
    """Row-wise lists of the True columns of a (rows, cols) bool matrix, 0-padded, plus counts."""
    count = allowed_blocks.sum(dim=1)
    width = max(1, int(count.max().item()))
    # a stable sort of (not allowed) puts the allowed columns first, in increasing order
    order = torch.argsort((~allowed_blocks).to(torch.int8), dim=1, stable=True)[:, :width]
    lists = torch.where(torch.arange(width, device=order.device)[None, :] < count[:, None], order, 0)
    return lists.to(torch.int32).contiguous(), count.to(torch.int32).contiguous()


def _from_block_pattern(block: int, q_index: Tensor, q_valid: Tensor, q_slot: Tensor, k_index: Tensor,
                        k_valid: Tensor, allowed_blocks: Tensor, density: float) -> BlockLayout:
    kv_blocks, kv_count = _pack(allowed_blocks)
    q_blocks, q_count = _pack(allowed_blocks.t())
    return BlockLayout(block=block, q_index=q_index, q_valid=q_valid, q_slot=q_slot, k_index=k_index,
                       k_valid=k_valid.to(torch.int32).contiguous(), kv_blocks=kv_blocks, kv_count=kv_count,
                       q_blocks=q_blocks, q_count=q_count, density=density)


def layout_from_groups(order: Tensor, group_sizes: list[int], allowed_gg: Tensor, block: int) -> BlockLayout:
    """Self-attention layout from groups of tokens.

    order: (s,) long, the original token indices listed group after group.
    group_sizes: tokens in each group (sum = s, each >= 1).
    allowed_gg: (n_groups, n_groups) bool, queries of group g attend keys of group h.
    """
    device = order.device
    sizes = torch.tensor(group_sizes, dtype=torch.long, device=device)
    n_blocks_g = (sizes + block - 1) // block
    block_group = torch.repeat_interleave(torch.arange(len(group_sizes), device=device), n_blocks_g)
    first_token_g = torch.cumsum(sizes, 0) - sizes
    first_block_g = torch.cumsum(n_blocks_g, 0) - n_blocks_g

    pos = torch.arange(block_group.numel() * block, device=device)  # padded slots
    g = block_group[pos // block]
    local = pos - first_block_g[g] * block
    valid = local < sizes[g]
    index = order[first_token_g[g] + torch.minimum(local, sizes[g] - 1)]
    slot = torch.empty_like(order)
    slot[order] = pos[valid]

    allowed_blocks = allowed_gg[block_group][:, block_group]
    pairs = (sizes[:, None] * sizes[None, :] * allowed_gg).sum().item()
    density = pairs / float(order.numel()) ** 2
    return _from_block_pattern(block, index, valid, slot, index, valid, allowed_blocks, density)


def dense_layout(s_q: int, s_k: int, block: int, device: torch.device | str) -> BlockLayout:
    """Every query block visits every key block (plain attention, possibly s_q != s_k)."""
    n_qb, n_kb = -(-s_q // block), -(-s_k // block)
    q_pos = torch.arange(n_qb * block, device=device)
    k_pos = torch.arange(n_kb * block, device=device)
    allowed = torch.ones(n_qb, n_kb, dtype=torch.bool, device=device)
    return _from_block_pattern(block, q_pos.clamp(max=s_q - 1), q_pos < s_q, torch.arange(s_q, device=device),
                               k_pos.clamp(max=s_k - 1), k_pos < s_k, allowed, 1.0)


def to_padded(x_bhsd: Tensor, index: Tensor, valid: Tensor) -> Tensor:
    """Gathers tokens into the padded order (zeros in padding slots); differentiable, contiguous."""
    gathered = x_bhsd.index_select(2, index)
    return torch.where(valid[:, None], gathered, torch.zeros((), dtype=x_bhsd.dtype, device=x_bhsd.device))


def from_padded(x_pad_bhsd: Tensor, slot: Tensor) -> Tensor:
    """Scatters padded-order results back to the original token order; differentiable."""
    return x_pad_bhsd.index_select(2, slot)
