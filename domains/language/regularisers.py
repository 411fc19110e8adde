r"""The KL and entropy regularisers of DiDi-Instruct's student loss (arXiv:2509.25035, Sec. 3.4):

.. math:: L_\nu = L_{IKL} + \lambda_{KL} \overline{KL}(p_\theta(\cdot|z) \| p_\nu(\cdot|z))
          - \lambda_H \overline{H}(p_\nu(\cdot|z))

averaged over the masked positions of each generation step's input z. Log-probabilities are SUBS outputs
(b, n, V) that hold -inf for impossible tokens; they are clamped before products so that 0 * -inf never
appears (neither in values nor in gradients).
"""

from __future__ import annotations

from torch import Tensor

from fewstep.checks import check_same_shape, check_tensor

_FLOOR = -1e4


def _masked_mean(per_token_bn: Tensor, masked_bn: Tensor) -> Tensor:
    m = masked_bn.to(per_token_bn.dtype)
    return (per_token_bn * m).sum() / m.sum().clamp_min(1)


def masked_entropy(log_probs_bnv: Tensor, masked_bn: Tensor) -> Tensor:
    """Mean over masked positions of H(p) = -sum_v p_v log p_v (nats); scalar, differentiable."""
    check_tensor("log_probs_bnv", log_probs_bnv, ndim=3, floating=True)
    lp = log_probs_bnv.clamp_min(_FLOOR)
    return _masked_mean(-(lp.exp() * lp).sum(dim=-1), masked_bn)


def masked_kl(teacher_log_probs: Tensor, student_log_probs: Tensor, masked_bn: Tensor) -> Tensor:
    """Mean over masked positions of KL(p_teacher || p_student) = sum_v p_T (log p_T - log p_S); scalar,
    differentiable in the student's log-probabilities (b, n, V)."""
    check_same_shape(teacher_log_probs=teacher_log_probs, student_log_probs=student_log_probs)
    lp_t, lp_s = teacher_log_probs.clamp_min(_FLOOR), student_log_probs.clamp_min(_FLOOR)
    return _masked_mean((lp_t.exp() * (lp_t - lp_s)).sum(dim=-1), masked_bn)
