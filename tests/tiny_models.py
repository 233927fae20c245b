"""Tiny random-weight Hugging Face models, built here, for testing the import path offline.

No hub can be reached in tests, so each architecture family the importer and the generic ONNX
runner support is made locally: a config with a hidden size of 32 and two layers, a tokenizer
built with the ``tokenizers`` library (WordPiece or byte-level BPE over a small corpus) wrapped in
``PreTrainedTokenizerFast``, and image processors or feature extractors constructed in code. Each
builder writes a folder exactly like a hub snapshot (``config.json``, ``model.safetensors``,
tokenizer and processor files, a model card), so what passes here passes for a real download.
Random weights make meaningless outputs: tests check types, shapes and ONNX-vs-PyTorch agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

WORDS = ("the a quick brown fox jumps over lazy dog i love this movie it was terrible good bad "
         "film great paris is in france where berlin germany who lives cat sofa picture shows "
         "hello world summary text").split()
CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "i love this movie, it was great",
    "it was a terrible film",
    "paris is in france and berlin is in germany",
    "the picture shows a cat on a sofa",
    "hello world, this is a summary of the text",
] * 4
SPECIALS_BERT = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HIDDEN = 32
CARD = """---
license: mit
tags:
- tiny
- test
pipeline_tag: {task}
---

# tiny-{name}

A tiny random-weight {name} made in the test suite; {task} outputs are meaningless.
"""


def _seed() -> None:
    import torch

    torch.manual_seed(0)


def _card(folder: Path, name: str, task: str) -> None:
    (folder / "README.md").write_text(CARD.format(name=name, task=task), encoding="utf-8")


def wordpiece_tokenizer():
    """A BERT-style WordPiece tokenizer over a few words and single characters."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tokens: list[str] = []
    for token in [*SPECIALS_BERT, *WORDS, *"abcdefghijklmnopqrstuvwxyz.,!?'"]:
        if token not in tokens:
            tokens.append(token)
    tokens += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    vocab = {token: index for index, token in enumerate(tokens)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    from tokenizers import decoders

    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=64)


def bpe_tokenizer(specials: list[str], bos: str, eos: str, pad: str, unk: str | None = None,
                  mask: str | None = None, vocab_size: int = 320, wrap: bool = True,
                  input_names: list[str] | None = None):
    """A byte-level BPE tokenizer trained on a tiny corpus (BART, GPT-2 and Whisper style)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=unk))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    if wrap:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} $B {eos}",
            special_tokens=[(bos, tok.token_to_id(bos)), (eos, tok.token_to_id(eos))])
    kwargs = {"bos_token": bos, "eos_token": eos, "pad_token": pad, "model_max_length": 64}
    if unk:
        kwargs["unk_token"] = unk
    if mask:
        kwargs["mask_token"] = mask
    if input_names:
        kwargs["model_input_names"] = input_names
    return PreTrainedTokenizerFast(tokenizer_object=tok, **kwargs)


def _vit_processor(size: int = 32):
    from transformers import ViTImageProcessor

    return ViTImageProcessor(size={"height": size, "width": size}, do_normalize=True)


# ---------------------------------------------------------------- builders


def bert(folder: Path, head: str = "text-classification") -> Path:
    """A 2-layer BERT with a sequence-classification, token-classification, QA or MLM head."""
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        BertForQuestionAnswering,
        BertForSequenceClassification,
        BertForTokenClassification,
    )

    _seed()
    tok = wordpiece_tokenizer()
    labels = {"text-classification": ["NEGATIVE", "POSITIVE"],
              "zero-shot-classification": ["contradiction", "neutral", "entailment"],
              "token-classification": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]}.get(head, [])
    config = BertConfig(vocab_size=len(tok), hidden_size=HIDDEN, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
                        id2label=dict(enumerate(labels)) or None,
                        label2id={label: i for i, label in enumerate(labels)} or None)
    cls = {"text-classification": BertForSequenceClassification,
           "zero-shot-classification": BertForSequenceClassification,
           "token-classification": BertForTokenClassification,
           "question-answering": BertForQuestionAnswering,
           "fill-mask": BertForMaskedLM}[head]
    if not labels:
        config.id2label, config.label2id = {0: "LABEL_0", 1: "LABEL_1"}, None
    model = cls(config).eval()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    _card(folder, "bert", head)
    return folder


def distilbert(folder: Path, head: str = "text-classification") -> Path:
    from transformers import (
        DistilBertConfig,
        DistilBertForMaskedLM,
        DistilBertForSequenceClassification,
    )

    _seed()
    tok = wordpiece_tokenizer()
    config = DistilBertConfig(vocab_size=len(tok), dim=HIDDEN, n_layers=2, n_heads=2,
                              hidden_dim=37, max_position_embeddings=64,
                              id2label={0: "NEGATIVE", 1: "POSITIVE"},
                              label2id={"NEGATIVE": 0, "POSITIVE": 1})
    cls = DistilBertForMaskedLM if head == "fill-mask" else DistilBertForSequenceClassification
    cls(config).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    _card(folder, "distilbert", head)
    return folder


def bart(folder: Path, task: str = "summarization") -> Path:
    """A 2+2-layer BART seq2seq model with a byte-level BPE tokenizer."""
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

    _seed()
    tok = bpe_tokenizer(["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<s>", "</s>", "<pad>",
                        unk="<unk>", mask="<mask>")
    ids = {t: tok.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>")}
    config = BartConfig(vocab_size=len(tok), d_model=HIDDEN, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=2, decoder_attention_heads=2,
                        encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=64,
                        bos_token_id=ids["<s>"], pad_token_id=ids["<pad>"],
                        eos_token_id=ids["</s>"], decoder_start_token_id=ids["</s>"],
                        forced_eos_token_id=ids["</s>"])
    model = BartForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<s>"], pad_token_id=ids["<pad>"], eos_token_id=ids["</s>"],
        decoder_start_token_id=ids["</s>"], max_length=20)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    _card(folder, "bart", task)
    return folder


def vit(folder: Path) -> Path:
    from transformers import ViTConfig, ViTForImageClassification

    _seed()
    labels = ["cat", "dog", "sofa"]
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=HIDDEN, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=37,
                       id2label=dict(enumerate(labels)),
                       label2id={label: i for i, label in enumerate(labels)})
    ViTForImageClassification(config).eval().save_pretrained(folder)
    _vit_processor().save_pretrained(folder)
    _card(folder, "vit", "image-classification")
    return folder


def yolos(folder: Path) -> Path:
    """A 2-layer YOLOS detector (a ViT with detection tokens; no timm backbone needed)."""
    from transformers import YolosConfig, YolosForObjectDetection, YolosImageProcessor

    _seed()
    labels = ["N/A", "cat", "sofa"]
    config = YolosConfig(image_size=[32, 32], patch_size=8, hidden_size=HIDDEN,
                         num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                         num_detection_tokens=5, id2label=dict(enumerate(labels)),
                         label2id={label: i for i, label in enumerate(labels)})
    YolosForObjectDetection(config).eval().save_pretrained(folder)
    YolosImageProcessor(size={"shortest_edge": 32, "longest_edge": 32},
                        do_pad=False).save_pretrained(folder)
    _card(folder, "yolos", "object-detection")
    return folder


def vision_encoder_decoder(folder: Path) -> Path:
    """A ViT encoder with a GPT-2 decoder: the ViT-GPT2 captioner and TrOCR layout."""
    from transformers import (
        GenerationConfig,
        GPT2Config,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
    )

    _seed()
    tok = bpe_tokenizer(["<|endoftext|>"], "<|endoftext|>", "<|endoftext|>", "<|endoftext|>",
                        wrap=False, input_names=["input_ids", "attention_mask"])
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    encoder = ViTConfig(image_size=32, patch_size=8, hidden_size=HIDDEN, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=37)
    decoder = GPT2Config(vocab_size=len(tok), n_embd=HIDDEN, n_layer=2, n_head=2, n_positions=64,
                         bos_token_id=eos, eos_token_id=eos, add_cross_attention=True,
                         is_decoder=True)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = eos
    config.pad_token_id = eos
    config.eos_token_id = eos
    model = VisionEncoderDecoderModel(config=config).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=eos, bos_token_id=eos,
                                               eos_token_id=eos, pad_token_id=eos, max_length=12)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    _vit_processor().save_pretrained(folder)
    _card(folder, "vit-gpt2", "image-to-text")
    return folder


def whisper(folder: Path) -> Path:
    """A 2+2-layer Whisper with 2-second windows (the real ones use 30 s; the layout is equal)."""
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
    )

    _seed()
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>",
                "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>",
                "<|notimestamps|>"]
    tok = bpe_tokenizer(specials, "<|endoftext|>", "<|endoftext|>", "<|endoftext|>",
                        wrap=False, input_names=["input_ids", "attention_mask"])
    ids = {t: tok.convert_tokens_to_ids(t) for t in specials}
    extractor = WhisperFeatureExtractor(feature_size=80, chunk_length=2)
    config = WhisperConfig(vocab_size=len(tok), d_model=HIDDEN, encoder_layers=2,
                           decoder_layers=2, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=37, decoder_ffn_dim=37,
                           num_mel_bins=80, max_source_positions=extractor.nb_max_frames // 2,
                           max_target_positions=32,
                           pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"],
                           eos_token_id=ids["<|endoftext|>"],
                           decoder_start_token_id=ids["<|startoftranscript|>"],
                           begin_suppress_tokens=None, suppress_tokens=None)
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"],
        no_timestamps_token_id=ids["<|notimestamps|>"], max_length=12,
        forced_decoder_ids=None, is_multilingual=False)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    # Re-save as a Whisper tokenizer: the ASR pipeline decodes with Whisper's own methods.
    from transformers import WhisperTokenizerFast

    WhisperTokenizerFast.from_pretrained(folder).save_pretrained(folder)
    extractor.save_pretrained(folder)
    _card(folder, "whisper", "automatic-speech-recognition")
    return folder


def _wav2vec2_config(labels: list[str] | None = None, vocab_size: int = 32):
    from transformers import Wav2Vec2Config

    kwargs = {}
    if labels:
        kwargs = {"id2label": dict(enumerate(labels)),
                  "label2id": {label: i for i, label in enumerate(labels)}}
    return Wav2Vec2Config(vocab_size=vocab_size, hidden_size=HIDDEN, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=37, conv_dim=(16, 16),
                          conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=16,
                          num_conv_pos_embedding_groups=2, classifier_proj_size=16,
                          do_stable_layer_norm=False, feat_extract_norm="group",
                          apply_spec_augment=False, **kwargs)


def wav2vec2(folder: Path) -> Path:
    """A 2-layer wav2vec2 CTC model with a character vocabulary (no sentencepiece needed)."""
    import json

    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    _seed()
    chars = ["<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]
    vocab_file = folder / "vocab.json"
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file.write_text(json.dumps({c: i for i, c in enumerate(chars)}))
    tok = Wav2Vec2CTCTokenizer(str(vocab_file), word_delimiter_token="|")
    config = _wav2vec2_config(vocab_size=len(chars))
    config.pad_token_id = 0
    Wav2Vec2ForCTC(config).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                             do_normalize=True, return_attention_mask=False
                             ).save_pretrained(folder)
    _card(folder, "wav2vec2", "automatic-speech-recognition")
    return folder


def wav2vec2_audio_classifier(folder: Path) -> Path:
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    _seed()
    config = _wav2vec2_config(labels=["speech", "music", "dog bark"])
    Wav2Vec2ForSequenceClassification(config).eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                             do_normalize=True, return_attention_mask=False
                             ).save_pretrained(folder)
    _card(folder, "wav2vec2-audio", "audio-classification")
    return folder


def glpn(folder: Path) -> Path:
    """A tiny GLPN depth estimator (convolutional; exports as ``depth-estimation``)."""
    from transformers import GLPNConfig, GLPNForDepthEstimation, GLPNImageProcessor

    _seed()
    config = GLPNConfig(num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1],
                        hidden_sizes=[16, 32], patch_sizes=[7, 3], strides=[4, 2],
                        num_attention_heads=[1, 2], mlp_ratios=[2, 2], decoder_hidden_size=16,
                        max_depth=10, head_in_index=-1)
    GLPNForDepthEstimation(config).eval().save_pretrained(folder)
    GLPNImageProcessor(size_divisor=32).save_pretrained(folder)
    _card(folder, "glpn", "depth-estimation")
    return folder


def segformer(folder: Path) -> Path:
    """A tiny SegFormer semantic segmenter (exports as ``semantic-segmentation``)."""
    from transformers import (
        SegformerConfig,
        SegformerForSemanticSegmentation,
        SegformerImageProcessor,
    )

    _seed()
    labels = ["background", "cat", "sofa"]
    config = SegformerConfig(num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1],
                             hidden_sizes=[16, 32], patch_sizes=[7, 3], strides=[4, 2],
                             num_attention_heads=[1, 2], mlp_ratios=[2, 2],
                             decoder_hidden_size=16, id2label=dict(enumerate(labels)),
                             label2id={label: i for i, label in enumerate(labels)})
    SegformerForSemanticSegmentation(config).eval().save_pretrained(folder)
    SegformerImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    _card(folder, "segformer", "image-segmentation")
    return folder


BUILDERS: dict[str, Callable[..., Path]] = {
    "bert": bert,
    "distilbert": distilbert,
    "bart": bart,
    "vit": vit,
    "yolos": yolos,
    "vision-encoder-decoder": vision_encoder_decoder,
    "whisper": whisper,
    "wav2vec2": wav2vec2,
    "wav2vec2-audio": wav2vec2_audio_classifier,
    "glpn": glpn,
    "segformer": segformer,
}


def make_image(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    """A small synthetic picture: a gradient with a rectangle (any decodable image will do)."""
    import numpy as np
    from PIL import Image

    height, width = size[1], size[0]
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1)
    pixels[10:30, 20:40] = [200, 30, 30]
    Image.fromarray(pixels.astype("uint8")).save(path)
    return path


def make_audio(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A short tone with a little noise, as 16-bit WAV."""
    import numpy as np

    from core.runners.base import write_wav

    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    samples = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
    return write_wav(path, samples, rate)


def build(name: str, root: Path, **kwargs) -> Path:
    """Build a tiny model once per test session (a folder under ``root``, reused after)."""
    import shutil
    import tempfile

    suffix = "-".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
    folder = root / "tiny-models" / (f"{name}-{suffix}" if suffix else name)
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".build-"))
        BUILDERS[name](staging / "model", **kwargs)
        try:
            (staging / "model").rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def pix2struct(folder: Path) -> Path:
    """A tiny Pix2Struct VQA model: the question is rendered as a header onto the image."""
    from transformers import (
        GenerationConfig,
        Pix2StructConfig,
        Pix2StructForConditionalGeneration,
        Pix2StructImageProcessor,
        Pix2StructTextConfig,
        Pix2StructVisionConfig,
    )

    _seed()
    tok = bpe_tokenizer(["<pad>", "</s>", "<unk>"], "<pad>", "</s>", "<pad>", unk="<unk>",
                        wrap=False)
    text = Pix2StructTextConfig(vocab_size=len(tok), hidden_size=HIDDEN, d_kv=16, d_ff=37,
                                num_layers=2, num_heads=2, pad_token_id=0, eos_token_id=1,
                                decoder_start_token_id=0)
    vision = Pix2StructVisionConfig(hidden_size=HIDDEN, patch_embed_hidden_size=16 * 16 * 3,
                                    d_kv=16, d_ff=37, num_hidden_layers=2,
                                    num_attention_heads=2)
    config = Pix2StructConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                              is_vqa=True)
    model = Pix2StructForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=0, pad_token_id=0,
                                               eos_token_id=1, max_length=12)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    Pix2StructImageProcessor(is_vqa=True, max_patches=64).save_pretrained(folder)
    _card(folder, "pix2struct", "visual-question-answering")
    return folder


BUILDERS["pix2struct"] = pix2struct
