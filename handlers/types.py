"""Channel-agnostic answer records: what the question-answering core returns to every channel."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Source:
    document: str  # file name of the plan or catalogue
    locality: str
    section: str  # section path / heading ("IV. TỔ CHỨC THỰC HIỆN > 2. Phòng Văn hóa - Xã hội")
    quote: str  # the exact line or table row the answer rests on


@dataclass
class TaskRef:
    id: str
    title: str
    locality: str
    lead: list[str]
    coordinate: list[str]
    deadline: dict  # {"text", "kind", "due"}
    inferred: bool = False


@dataclass
class ProcedureRef:
    code: str
    name: str
    locality: str
    field_asked: str
    value: str
    source: str


@dataclass
class Choice:
    """One option when a question is ambiguous; choosing it re-asks `query` (with `locality`)."""

    label: str
    query: str
    locality: str | None = None


@dataclass
class Answer:
    question: str
    text: str
    found: bool
    intent: str
    sources: list[Source] = field(default_factory=list)
    tasks: list[TaskRef] = field(default_factory=list)
    procedures: list[ProcedureRef] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    latency_ms: float = 0.0
    # a page of a list: the chat command that shows the list ("/nhiemvu Phòng Kinh tế, xã Hải Hậu"); channels
    # without paging buttons tell people to type it with " trang N" (not part of the JSON answer)
    list_command: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        return {
            "question": d["question"], "answer": d["text"], "found": d["found"], "intent": d["intent"],
            "latency_ms": d["latency_ms"], "sources": d["sources"], "tasks": d["tasks"],
            "procedures": d["procedures"], "choices": d["choices"],
        }
