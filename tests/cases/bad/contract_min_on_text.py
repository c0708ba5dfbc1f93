from aorist import FreeText

FreeText("note", min=0)
