"""The PyTorch peer of the benchmark: jupyter_llm's architecture written in torch.

``Embedding -> nn.GRU -> causal attention (q = h W_q, k = h W_k, values = h,
window W) -> Linear([h_t; a_t])``, with Keras's initialisers, trained with Adam
and ``clip_grad_norm_`` on random windows, and decoding incrementally: the GRU
state and a ring of the last W keys and values, one step per token, under
``torch.inference_mode()``.

Two decoders. ``LeanDecoder`` / ``lean_generator`` (what the benchmark's PyTorch
column times) is the step as lean as eager PyTorch goes: weights laid out once,
the gates by hand with in-place ops, a preallocated ring written in place, and
inverse-CDF sampling in torch with a seeded ``torch.Generator``; no numpy per
step. ``GRUAttentionLM.step`` / ``generator`` is the plain module loop
(``nn.GRU`` on one step, numpy sampling), reported as extra rows.

``load_keras_weights`` copies the weights of a jupyter_llm Keras model, so
``check_parity`` can show that both compute the same function.
PyTorch is a benchmark-only dependency: ``pip install torch==2.13.0``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common import (Spec, StepClock, load_tokens, memory_mib, random_batch, reset_peak_memory, sample, threads,
                    time_generation, timed_gc)


class GRUAttentionLM(nn.Module):
    """Token ids ``(B, T)`` -> logits ``(B, T, vocab_size)``; the same maths as jupyter_llm's model."""

    def __init__(self, vocab_size: int, embedding_dim: int, rnn_units: int, num_layers: int,
                 attention_dim: int, window: int, dropout: float = 0.0) -> None:
        super().__init__()
        # === Layers ===
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.gru = nn.GRU(embedding_dim, rnn_units, num_layers=num_layers, batch_first=True,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.query = nn.Linear(rnn_units, attention_dim, bias=False)
        self.key = nn.Linear(rnn_units, attention_dim, bias=False)
        self.logits = nn.Linear(2 * rnn_units, vocab_size)
        # === Config ===
        self.window = window
        self.scale = 1.0 / math.sqrt(attention_dim)
        self.reset_parameters_like_keras()

    def reset_parameters_like_keras(self) -> None:
        """Keras's initialisers: uniform(+-0.05) embedding, Glorot kernels, orthogonal recurrent, zero biases."""
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        units = self.gru.hidden_size
        for name, p in self.gru.named_parameters():
            if name.startswith("weight_ih"):
                # Keras draws one Glorot matrix (input, 3 * units) for the three gates.
                bound = math.sqrt(6.0 / (p.shape[1] + 3 * units))
                nn.init.uniform_(p, -bound, bound)
            elif name.startswith("weight_hh"):
                with torch.no_grad():
                    p.copy_(nn.init.orthogonal_(torch.empty(units, 3 * units)).T)
            else:
                nn.init.zeros_(p)
        for layer in (self.query, self.key, self.logits):
            nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, tokens: torch.Tensor, state: torch.Tensor | None = None):
        """Logits ``(B, T, V)``, GRU states ``(layers, B, units)``, hidden ``(B, T, units)``, keys ``(B, T, d)``."""
        h, state = self.gru(self.embedding(tokens), state)  # (B, T, units)
        q, k = self.query(h), self.key(h)  # (B, T, d)
        scores = q @ k.transpose(1, 2) * self.scale  # (B, T, T)
        t = tokens.shape[1]
        pos = torch.arange(t, device=tokens.device)
        behind = pos[:, None] - pos[None, :]  # query position - key position
        allowed = (behind >= 0) & (behind < self.window)
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)  # (B, T, T)
        context = weights @ h  # (B, T, units)
        return self.logits(torch.cat([h, context], dim=-1)), state, h, k

    # === Incremental decoding ===

    def prefill(self, tokens: torch.Tensor):
        """Read prompts ``(B, T)``; the next-token logits ``(B, V)`` and the decoding state."""
        logits, state, h, k = self(tokens)
        b, t, _ = h.shape
        w = self.window
        keys = h.new_zeros(b, w, k.shape[-1])  # (B, W, d): slot s holds position p with p % W == s
        values = h.new_zeros(b, w, h.shape[-1])  # (B, W, units)
        positions = torch.arange(max(0, t - w), t)
        keys[:, positions % w] = k[:, positions]
        values[:, positions % w] = h[:, positions]
        return logits[:, -1], (state, keys, values, t)

    def step(self, tokens: torch.Tensor, cache):
        """Feed one token per row ``(B,)``; the next logits ``(B, V)`` and the new state (cache updated in place)."""
        state, keys, values, position = cache
        h, state = self.gru(self.embedding(tokens)[:, None], state)  # (B, 1, units)
        h = h[:, 0]
        slot = position % self.window
        keys[:, slot] = self.key(h)
        values[:, slot] = h
        scores = torch.einsum("bd,bwd->bw", self.query(h), keys) * self.scale  # (B, W)
        if position + 1 < self.window:  # before the ring wraps, later slots are empty
            scores[:, position + 1 :] = float("-inf")
        context = torch.einsum("bw,bwu->bu", torch.softmax(scores, dim=-1), values)  # (B, units)
        return self.logits(torch.cat([h, context], dim=-1)), (state, keys, values, position + 1)


def build(spec: Spec) -> GRUAttentionLM:
    return GRUAttentionLM(spec.vocab_size, spec.embedding_dim, spec.rnn_units, spec.num_layers,
                          spec.attention_dim, spec.window, spec.dropout)


def train(model: GRUAttentionLM, ids: np.ndarray, spec: Spec, clock: StepClock) -> None:
    """Adam + global-norm clipping on random windows until ``spec.train_seconds`` have passed."""
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.learning_rate, eps=1e-7)  # Keras's epsilon
    rng = np.random.default_rng(spec.seed)
    model.train()
    while True:
        x, y = random_batch(ids, spec.seq_len, spec.batch_size, rng)
        logits = model(torch.from_numpy(x))[0]  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), spec.clipnorm)
        optimizer.step()
        clock.tick(loss.item())
        if clock.elapsed() >= spec.train_seconds:
            return


def generator(model: GRUAttentionLM, prompt_ids: np.ndarray) -> Callable[[int, int, int], Iterator[int]]:
    """``fn(n, max_tokens, seed)`` that samples ``n`` continuations of the prompt incrementally."""
    prompt = torch.as_tensor(prompt_ids[None, :], dtype=torch.long)

    def fn(n: int, max_tokens: int, seed: int) -> Iterator[int]:
        rng = np.random.default_rng(seed)
        with torch.inference_mode():
            logits, (state, keys, values, position) = model.prefill(prompt)
            cache = (state.repeat(1, n, 1), keys.repeat(n, 1, 1), values.repeat(n, 1, 1), position)
            logits = logits.repeat(n, 1)
            for i in range(max_tokens):
                tokens = sample(logits.numpy(), rng)
                yield n
                if i + 1 < max_tokens:
                    logits, cache = model.step(torch.from_numpy(tokens).long(), cache)

    return fn


class LeanDecoder:
    """Incremental decoding written as lean as plain eager PyTorch goes: the same maths as ``model.step``.

    Everything a step needs is laid out once, from the model's own tensors:

    * layer 0's input gates for every token, ``embedding @ W_ih^T + b_ih`` ``(V, 3 units)``, so a token's
      embedding and input projection are one row lookup;
    * the GRU weights transposed once to ``(in, 3 units)`` for ``torch.addmm`` (at ``medium``, batch 1,
      ``x @ W`` with that layout took half the time of ``F.linear`` on ``nn.GRU``'s own ``(3 units, in)``
      tensors; the same at ``small`` and at batch 8); the gates combined in place (``sigmoid_``,
      ``addcmul``, ``tanh_``, ``lerp``: ``h' = n + z (h - n)``), not through ``nn.GRU``'s module call;
    * ``W_q`` and ``W_k`` in one ``(units, 2 d)`` matrix with ``1 / sqrt(d)`` folded into the query half;
    * the output ``Linear`` split into its ``h`` and context halves (two ``addmm``, no ``cat``), with
      ``-inf`` on ``<unk>``'s bias, so ``<unk>`` is never sampled;
    * a preallocated key/value ring ``(B, W, d)`` / ``(B, W, units)`` written in place, and an additive
      mask ``(1, W, 1)`` (``-inf`` on slots not yet written) fed to ``torch.baddbmm``.

    A step is ``step(tokens)`` with ``tokens`` ``(B,)`` long, giving logits ``(B, V)``; no numpy.
    """

    def __init__(self, model: GRUAttentionLM, ban_unk: bool = True) -> None:
        gru, units = model.gru, model.gru.hidden_size
        self.units, self.window, self.num_layers = units, model.window, gru.num_layers
        self.attention_dim = model.query.out_features
        self.ban_unk = ban_unk
        with torch.no_grad():
            self.layers = []  # per layer: (W_ih^T (in, 3u) or None, b_ih, W_hh^T (u, 3u), b_hh)
            for i in range(gru.num_layers):
                w_ih, w_hh = getattr(gru, f"weight_ih_l{i}"), getattr(gru, f"weight_hh_l{i}")
                b_ih, b_hh = getattr(gru, f"bias_ih_l{i}"), getattr(gru, f"bias_hh_l{i}")
                self.layers.append((None if i == 0 else w_ih.t().contiguous(), b_ih.clone(),
                                    w_hh.t().contiguous(), b_hh.clone()))
            # (V, 3u): the embedding through layer 0's input projection, bias included.
            self.input_gates = torch.addmm(gru.bias_ih_l0, model.embedding.weight, gru.weight_ih_l0.t())
            self.qk = torch.cat([model.query.weight.t() * model.scale, model.key.weight.t()], dim=1).contiguous()
            self.out_h = model.logits.weight[:, :units].t().contiguous()  # (u, V)
            self.out_a = model.logits.weight[:, units:].t().contiguous()  # (u, V)
            self.out_b = model.logits.bias.clone()
            if ban_unk:
                self.out_b[0] = float("-inf")

    def gru_layer(self, i: int, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One GRU step of layer ``i`` (PyTorch's gate order r, z, n); ``x`` is the input gates for layer 0."""
        w_ih, b_ih, w_hh, b_hh = self.layers[i]
        gi = x if w_ih is None else torch.addmm(b_ih, x, w_ih)  # (B, 3u)
        gh = torch.addmm(b_hh, h, w_hh)  # (B, 3u)
        u = self.units
        rz = torch.add(gi[:, : 2 * u], gh[:, : 2 * u]).sigmoid_()
        n = torch.addcmul(gi[:, 2 * u :], rz[:, :u], gh[:, 2 * u :]).tanh_()
        return torch.lerp(n, h, rz[:, u:])  # n + z (h - n)

    def start(self, model: GRUAttentionLM, prompts: torch.Tensor, copies: int = 1) -> torch.Tensor:
        """Read prompts ``(P, T)`` with the model's full forward, each row ``copies`` times; logits ``(P copies, V)``."""
        logits, (state, keys, values, position) = model.prefill(prompts)
        w = self.window
        self.states = list(state.repeat_interleave(copies, dim=1).unbind(0))  # per layer (B, u)
        self.keys = keys.repeat_interleave(copies, dim=0).contiguous()  # (B, W, d)
        self.values = values.repeat_interleave(copies, dim=0).contiguous()  # (B, W, u)
        self.mask = torch.zeros(1, w, 1)
        self.mask[:, min(position, w) :] = float("-inf")  # slots not yet written
        self.position = position
        logits = logits.repeat_interleave(copies, dim=0)
        if self.ban_unk:
            logits[:, 0] = float("-inf")  # as every step's bias does
        return logits

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Feed one token per row ``(B,)`` long; the next logits ``(B, V)`` (state and ring updated in place)."""
        x = self.input_gates[tokens]  # (B, 3u)
        for i in range(self.num_layers):
            x = self.states[i] = self.gru_layer(i, x, self.states[i])
        h = x  # (B, u)
        slot = self.position % self.window
        qk = torch.mm(h, self.qk)  # (B, 2d)
        d = self.attention_dim
        self.keys[:, slot] = qk[:, d:]
        self.values[:, slot] = h
        if self.position < self.window:
            self.mask[:, slot] = 0.0
        self.position += 1
        scores = torch.baddbmm(self.mask, self.keys, qk[:, :d, None])  # (B, W, 1)
        weights = torch.softmax(scores, dim=1)
        context = torch.bmm(weights.transpose(1, 2), self.values)[:, 0]  # (B, u)
        return torch.addmm(self.out_b, h, self.out_h).addmm_(context, self.out_a)


def sample_inverse_cdf(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One token per row of ``logits`` ``(B, V)`` by inverse-CDF sampling, in torch; ``(B, 1)`` long.

    The same rule as ``common.sample`` (jupyter_llm's): the first index whose cumulative probability exceeds
    ``u * total``, ``u`` uniform in [0, 1). A token of probability 0 (``<unk>``, whose logit is ``-inf``) is
    never drawn. About 4x cheaper than ``torch.multinomial`` at this vocabulary on CPU (14 vs 50 us).
    """
    cdf = torch.softmax(logits, dim=-1).cumsum_(dim=-1)  # (B, V)
    u = torch.rand(logits.shape[0], 1, generator=generator).mul_(cdf[:, -1:])  # (B, 1)
    return torch.searchsorted(cdf, u, right=True).clamp_(max=logits.shape[1] - 1)


def multinomial(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``torch.multinomial`` of the softmax: the same distribution as :func:`sample_inverse_cdf`; ``(B, 1)``."""
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)


def lean_generator(model: GRUAttentionLM, prompt_ids: np.ndarray,
                   sampler: Callable[[torch.Tensor, torch.Generator], torch.Tensor] = sample_inverse_cdf,
                   ) -> Callable[[int, int, int], Iterator[int]]:
    """``fn(n, max_tokens, seed)``: the lean decoder and a sampler seeded with a torch generator.

    The sampled ids stay in a preallocated ``(n, max_tokens)`` tensor; nothing leaves torch per step.
    """
    prompt = torch.as_tensor(prompt_ids[None, :], dtype=torch.long)
    decoder = LeanDecoder(model)

    def fn(n: int, max_tokens: int, seed: int) -> Iterator[int]:
        generator = torch.Generator().manual_seed(seed)
        out = torch.empty(n, max_tokens, dtype=torch.long)
        with torch.inference_mode():
            logits = decoder.start(model, prompt, n)  # (n, V)
            for i in range(max_tokens):
                tokens = sampler(logits, generator)  # (n, 1)
                out[:, i : i + 1] = tokens
                yield n
                if i + 1 < max_tokens:
                    logits = decoder.step(tokens[:, 0])
        fn.tokens = out

    return fn


def run(spec: Spec, log: Callable[[str], None]) -> dict[str, Any]:
    """Train and generate with the torch peer; every figure the benchmark reports."""
    torch.set_num_threads(threads())
    torch.manual_seed(spec.seed)
    _, _, ids, _, prompt_ids = load_tokens(spec)
    result: dict[str, Any] = {"memory": {"after_import": memory_mib()}}

    reset_peak_memory()
    clock = StepClock()
    model = build(spec)
    train(model, ids, spec, clock)
    result["train"] = clock.summary(spec.seq_len * spec.batch_size)
    result["memory"]["train"] = memory_mib()
    result["parameters"] = sum(p.numel() for p in model.parameters())
    log(f"trained {result['train']['steps']} steps: {result['train'].get('steady_chars_per_s', 0):,.0f} chars/s")

    model.eval()
    result["train"]["gc_after_s"] = timed_gc()
    reset_peak_memory()
    log("lean decoder (LeanDecoder, inverse-CDF sampling in torch):")
    result["generate"] = time_generation(lean_generator(model, prompt_ids), spec, log)
    result["memory"]["generate"] = memory_mib()
    # The module-based loop (model.step: nn.GRU on one step, numpy sampling), for comparison only.
    log("module loop (nn.GRU step, numpy sampling):")
    result["generate_nn_gru_step"] = time_generation(generator(model, prompt_ids), spec, log)
    result["threads"] = {"torch.get_num_threads": torch.get_num_threads(),
                         "torch.get_num_interop_threads": torch.get_num_interop_threads(),
                         "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset: libgomp spins, then sleeps)")}
    result["versions"] = {"torch": torch.__version__}
    return result


# === Parity with the Keras model ===


def load_keras_weights(model: GRUAttentionLM, keras_model) -> None:
    """Copy a jupyter_llm Keras model's weights into ``model`` (gate order z, r, h -> r, z, n)."""
    units = model.gru.hidden_size

    def gates(w: np.ndarray) -> np.ndarray:  # last axis [z | r | h] -> [r | z | h]
        z, r, h = np.split(w, 3, axis=-1)
        return np.concatenate([r, z, h], axis=-1)

    with torch.no_grad():
        model.embedding.weight.copy_(torch.from_numpy(keras_model.get_layer("embedding").get_weights()[0]))
        for i in range(model.gru.num_layers):
            kernel, recurrent, bias = keras_model.get_layer(f"gru_{i}").get_weights()
            assert bias.shape == (2, 3 * units), "expected a GRU with reset_after=True"
            getattr(model.gru, f"weight_ih_l{i}").copy_(torch.from_numpy(gates(kernel).T.copy()))
            getattr(model.gru, f"weight_hh_l{i}").copy_(torch.from_numpy(gates(recurrent).T.copy()))
            getattr(model.gru, f"bias_ih_l{i}").copy_(torch.from_numpy(gates(bias[0])))
            getattr(model.gru, f"bias_hh_l{i}").copy_(torch.from_numpy(gates(bias[1])))
        attention = keras_model.get_layer("attention")
        model.query.weight.copy_(torch.from_numpy(np.asarray(attention.query_kernel).T.copy()))
        model.key.weight.copy_(torch.from_numpy(np.asarray(attention.key_kernel).T.copy()))
        kernel, bias = keras_model.get_layer("logits").get_weights()
        model.logits.weight.copy_(torch.from_numpy(kernel.T.copy()))
        model.logits.bias.copy_(torch.from_numpy(bias))


def lean_parity(model: GRUAttentionLM, tokens: np.ndarray) -> np.ndarray:
    """The lean decoder's logits ``(B, T - 7, V)`` after reading ``tokens[:, :8]`` and stepping through the rest."""
    decoder = LeanDecoder(model)
    with torch.inference_mode():
        steps = [decoder.start(model, torch.from_numpy(tokens[:, :8]).long())]
        for i in range(8, tokens.shape[1]):
            steps.append(decoder.step(torch.from_numpy(tokens[:, i]).long()))
    return torch.stack(steps, dim=1).numpy()


def sampler_check(logits: torch.Tensor, seed: int, draws: int = 200_000) -> dict[str, Any]:
    """Both torch samplers against the exact softmax (``<unk>`` banned) on one row of logits ``(V,)``.

    ``tv_distance``: total variation between the empirical and exact distributions; for ``draws`` draws from
    the right one it is about ``sqrt(V / draws) / 2.5`` (0.007 for 65 tokens), much more if the rule is off.
    """
    logits = logits.clone().float()
    logits[0] = float("-inf")
    exact = torch.softmax(logits.double(), dim=-1)
    batch = logits.expand(draws, -1).contiguous()
    out: dict[str, Any] = {}
    for name, fn in (("inverse_cdf", sample_inverse_cdf), ("multinomial", multinomial)):
        drawn = fn(batch, torch.Generator().manual_seed(seed))[:, 0]
        counts = torch.bincount(drawn, minlength=logits.shape[0]).double() / draws
        out[f"sampler_{name}_tv_distance"] = float((counts - exact).abs().sum() / 2)
        out[f"sampler_{name}_unk_drawn"] = int((drawn == 0).sum())
    return out


def check_parity(spec: Spec, log: Callable[[str], None]) -> dict[str, Any]:
    """Largest differences between Keras and torch logits (full forward, and torch's incremental decoding)."""
    from jupyter_llm.config import ModelConfig
    from jupyter_llm.model.backbone import build_model

    config = ModelConfig.from_size(spec.size, vocab_size=spec.vocab_size, seq_len=spec.seq_len,
                                   batch_size=spec.batch_size, seed=spec.seed)
    keras_model = build_model(config)
    rng = np.random.default_rng(spec.seed)
    # Untrained logits are ~0.01: scale the embedding, attention and output up so that they are O(1)
    # and a difference shows (random weights this large everywhere make the GRU chaotic instead).
    for name, factor in (("embedding", 10.0), ("attention", 3.0), ("logits", 30.0)):
        layer = keras_model.get_layer(name)
        layer.set_weights([w * factor for w in layer.get_weights()])
    model = build(spec)
    load_keras_weights(model, keras_model)
    model.eval()
    t = spec.window + 40  # long enough for the ring to wrap
    tokens = rng.integers(1, spec.vocab_size, size=(2, t)).astype(np.int32)
    expected = np.asarray(keras_model(tokens, training=False))  # (2, T, V)
    with torch.inference_mode():
        full = model(torch.from_numpy(tokens).long())[0].numpy()
        logits, cache = model.prefill(torch.from_numpy(tokens[:, :8]).long())
        steps = [logits.numpy()]
        for i in range(8, t):
            logits, cache = model.step(torch.from_numpy(tokens[:, i]).long(), cache)
            steps.append(logits.numpy())
    incremental = np.stack(steps, axis=1)  # (2, T - 7, V): logits after positions 7 .. T-1
    lean = lean_parity(model, tokens)
    result = {
        "keras_parameters": int(keras_model.count_params()),
        "torch_parameters": sum(p.numel() for p in model.parameters()),
        "max_abs_diff_forward": float(np.abs(full - expected).max()),
        "max_abs_diff_incremental": float(np.abs(incremental - expected[:, 7:]).max()),
        # The lean decoder bans <unk> in its bias: compare every other logit, and check that one is -inf.
        "max_abs_diff_lean": float(np.abs(lean[..., 1:] - expected[:, 7:, 1:]).max()),
        "lean_unk_banned": bool(np.all(lean[..., 0] == -np.inf)),
        **sampler_check(torch.tensor(expected[0, -1]), spec.seed),
        "logit_scale": float(np.abs(expected).max()),
    }
    log(f"parity: {result}")
    return result


if __name__ == "__main__":  # a quick look: python bench/torch_peer.py
    spec = Spec(corpus="x", vocab_size=65, train_seconds=3)
    m = build(spec)
    print(m, sum(p.numel() for p in m.parameters()), "parameters")
    for name, make in (("lean decoder", lean_generator), ("nn.GRU-step loop", generator)):
        start = time.perf_counter()
        for _ in make(m, np.arange(1, 65, dtype=np.int32))(1, 100, 0):
            pass
        print(f"{name}: 100 tokens in {time.perf_counter() - start:.3f} s")
