"""Chat templates: how a controller's messages become the prompt text its model was trained on.

The GGUF's own Jinja template when it has one; Gemma's turn format for Gemma GGUFs without one
(llama-cpp-python would otherwise fall back to llama-2's format, which Gemma never saw); ChatML
for everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}



class ChatTemplate:
    """Renders chat messages into the prompt text a model was trained on."""

    name = "base"
    stop_strings: tuple[str, ...] = ()
    renders_bos = False  # whether the rendered text already starts with the BOS token text

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        raise NotImplementedError


class GemmaTemplate(ChatTemplate):
    """Gemma's turn format; Gemma has no system role, so system text opens the first user turn.

    The Gemma 3 270M GGUF ships no ``tokenizer.chat_template``; llama-cpp-python would fall back
    to llama-2's format, which the model never saw.
    """

    name = "gemma"
    stop_strings = ("<end_of_turn>",)

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        parts = []
        pending_system = system
        for message in messages:
            if message["role"] == "system":
                continue
            role = "model" if message["role"] == "assistant" else "user"
            content = message["content"]
            if role == "user" and pending_system:
                content = f"{pending_system}\n\n{content}"
                pending_system = ""
            parts.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
        if add_generation_prompt:
            parts.append("<start_of_turn>model\n")
        return "".join(parts)


class ChatMLTemplate(ChatTemplate):
    """The ChatML format, the fallback for a GGUF with neither a template nor a known family."""

    name = "chatml"
    stop_strings = ("<|im_end|>",)

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


class JinjaTemplate(ChatTemplate):
    """The chat template stored in a GGUF's metadata (Qwen, Llama, Mistral, SmolLM...)."""

    name = "gguf-metadata"

    def __init__(self, template: str, bos_token: str, eos_token: str) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos_token,
                                              bos_token=bos_token)
        self._bos = bos_token
        self.stop_strings = tuple(s for s in (eos_token,) if s)
        self.renders_bos = bool(bos_token) and "bos_token" in template

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        self._formatter.add_generation_prompt = add_generation_prompt
        return self._formatter(messages=list(messages)).prompt


def template_for(metadata: dict[str, str], token_text: Callable[[int], str]) -> ChatTemplate:
    """Pick the chat template: the GGUF's own, else the family's known format, else ChatML."""
    template = metadata.get("tokenizer.chat_template")
    if template:
        bos = _special(metadata, "tokenizer.ggml.bos_token_id", token_text)
        eos = _special(metadata, "tokenizer.ggml.eos_token_id", token_text)
        return JinjaTemplate(template, bos, eos)
    if metadata.get("general.architecture", "").startswith("gemma"):
        return GemmaTemplate()
    return ChatMLTemplate()


def _special(metadata: dict[str, str], key: str, token_text: Callable[[int], str]) -> str:
    try:
        return token_text(int(metadata[key]))
    except (KeyError, ValueError):
        return ""
