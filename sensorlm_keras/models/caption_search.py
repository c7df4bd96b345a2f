"""Decoding strategies of `SensorLMCoCa.generate`: greedy, beam search and top-p sampling.

Each function drives a compiled one-token step ``step(tokens (n, 1) int32, index) -> logits
(n, vocabulary)`` (a NumPy float array; the step keeps the key/value caches itself) from Python
and returns ``(ids (batch, max_length) int32, scores (batch,) float64)``. Ids after the first EOS
are the pad id. The selection logic runs in NumPy (float64), so all backends choose the same
tokens from the same logits.
"""

import numpy as np


def log_softmax(logits):
    x = np.asarray(logits, np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def greedy(step, batch, max_length, start_id, eos_id, pad_id):
    """Pick the most likely token at every position; a row stops at its first EOS."""
    ids = np.full((batch, max_length), pad_id, np.int32)
    scores = np.zeros(batch, np.float64)
    finished = np.zeros(batch, bool)
    tokens = np.full((batch, 1), start_id, np.int32)
    for i in range(max_length):
        logp = log_softmax(step(tokens, i))
        nxt = np.argmax(logp, axis=-1).astype(np.int32)
        tokens = _record(ids, scores, finished, logp, nxt, i, eos_id, pad_id)
        if tokens is None:
            break
    return ids, scores


def _record(ids, scores, finished, logp, nxt, i, eos_id, pad_id):
    """Store step ``i``'s tokens (pad after EOS) and their log-probabilities in place; returns
    the next one-token input, or None when every row has finished."""
    rows = np.arange(ids.shape[0])
    scores += np.where(finished, 0.0, logp[rows, nxt])
    nxt = np.where(finished, pad_id, nxt)
    ids[:, i] = nxt
    finished |= nxt == eos_id
    return None if finished.all() else nxt[:, None]


def top_p(step, batch, max_length, start_id, eos_id, pad_id, p=0.9, temperature=1.0, seed=None,
          row_offset=0):
    """Nucleus sampling: sample from the smallest set of tokens whose probability is >= p.

    Row ``r`` draws from its own NumPy generator seeded with ``(seed, row_offset + r)``: the
    same seed gives the same captions, whatever the batching. ``seed=None`` draws fresh entropy.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    rngs = [np.random.default_rng([int(seed), row_offset + r]) for r in range(batch)]
    ids = np.full((batch, max_length), pad_id, np.int32)
    scores = np.zeros(batch, np.float64)
    finished = np.zeros(batch, bool)
    tokens = np.full((batch, 1), start_id, np.int32)
    for i in range(max_length):
        logp = log_softmax(np.asarray(step(tokens, i), np.float64) / temperature)
        probs = np.exp(logp)
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
        keep = before < p  # the token that crosses p is kept; the first token always is
        kept = np.where(keep, sorted_probs, 0.0)
        kept /= kept.sum(axis=-1, keepdims=True)
        u = np.array([g.random() for g in rngs])
        choice = np.minimum((np.cumsum(kept, axis=-1) < u[:, None]).sum(axis=-1), kept.shape[1] - 1)
        nxt = order[np.arange(batch), choice].astype(np.int32)
        tokens = _record(ids, scores, finished, logp, nxt, i, eos_id, pad_id)
        if tokens is None:
            break
    return ids, scores


def beam(step, reorder, batch, max_length, start_id, eos_id, pad_id, num_beams=4,
         length_penalty=1.0):
    """Length-normalised beam search.

    Rows are ``batch * num_beams`` (example-major). ``reorder(indices)`` must permute the
    step's caches to the given rows. A hypothesis ending in EOS is kept only if EOS ranks among
    the ``num_beams`` best candidates of its example, and an example is done once it holds
    ``num_beams`` finished hypotheses, so ``num_beams=1`` is exactly greedy decoding. Scores are
    ``sum log p / length ** length_penalty`` (length counts EOS).
    """
    k = int(num_beams)
    scores = np.zeros((batch, k), np.float64)
    scores[:, 1:] = -np.inf  # the k copies start identical: expand only the first
    seqs = [[[] for _ in range(k)] for _ in range(batch)]
    finished = [[] for _ in range(batch)]
    done = np.zeros(batch, bool)
    tokens = np.full((batch * k, 1), start_id, np.int32)
    for i in range(max_length):
        logp = log_softmax(step(tokens, i)).reshape(batch, k, -1)
        vocab = logp.shape[-1]
        candidates = (scores[:, :, None] + logp).reshape(batch, k * vocab)
        rows = np.arange(batch * k)
        next_tokens = np.full(batch * k, pad_id, np.int32)
        for b in range(batch):
            if done[b]:
                continue
            order = np.argsort(-candidates[b], kind="stable")[: 2 * k]
            alive = []
            for rank, c in enumerate(order):
                score = candidates[b, c]
                if not np.isfinite(score):
                    break
                source, token = divmod(int(c), vocab)
                if token == eos_id:
                    if rank < k:
                        seq = seqs[b][source] + [eos_id]
                        finished[b].append((score / len(seq) ** length_penalty, score, seq))
                    continue
                alive.append((score, source, token))
                if len(alive) == k:
                    break
            if len(finished[b]) >= k:
                done[b] = True
                continue
            while len(alive) < k:
                alive.append((-np.inf, 0, pad_id))
            new_seqs = []
            for j, (score, source, token) in enumerate(alive):
                scores[b, j] = score
                new_seqs.append(seqs[b][source] + [token])
                rows[b * k + j] = b * k + source
                next_tokens[b * k + j] = token
            seqs[b] = new_seqs
        if done.all() or i == max_length - 1:
            break
        reorder(rows)
        tokens = next_tokens[:, None]
    ids = np.full((batch, max_length), pad_id, np.int32)
    best_scores = np.zeros(batch, np.float64)
    for b in range(batch):
        pool = list(finished[b])
        if not done[b]:
            pool += [
                (scores[b, j] / len(seqs[b][j]) ** length_penalty, scores[b, j], seqs[b][j])
                for j in range(k)
                if np.isfinite(scores[b, j])
            ]
        best = max(pool, key=lambda h: h[0])  # max keeps the first of equal scores
        ids[b, : len(best[2])] = best[2]
        best_scores[b] = best[0]
    return ids, best_scores
