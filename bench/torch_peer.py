"""The PyTorch peer of the benchmark: jupyter_llm's architecture written in torch.

``Embedding -> nn.GRU -> causal attention (q = h W_q, k = h W_k, values = h,
window W) -> Linear([h_t; a_t])``, with Keras's initialisers, trained with Adam
and ``clip_grad_norm_`` on random windows, and decoding incrementally: the GRU
state and a ring of the last W keys and values, one step per token, under
``torch.inference_mode()``.

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
    result["generate"] = time_generation(generator(model, prompt_ids), spec, log)
    result["memory"]["generate"] = memory_mib()
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
    result = {
        "keras_parameters": int(keras_model.count_params()),
        "torch_parameters": sum(p.numel() for p in model.parameters()),
        "max_abs_diff_forward": float(np.abs(full - expected).max()),
        "max_abs_diff_incremental": float(np.abs(incremental - expected[:, 7:]).max()),
        "logit_scale": float(np.abs(expected).max()),
    }
    log(f"parity: {result}")
    return result


if __name__ == "__main__":  # a quick look: python bench/torch_peer.py
    spec = Spec(corpus="x", vocab_size=65, train_seconds=3)
    m = build(spec)
    print(m, sum(p.numel() for p in m.parameters()), "parameters")
    start = time.perf_counter()
    for _ in generator(m, np.arange(1, 65, dtype=np.int32))(1, 100, 0):
        pass
    print(f"100 tokens in {time.perf_counter() - start:.3f} s")
