from dedupe.errors import BackendError, ConfigError, DedupeError, FingerprintMismatch, InputError, ModelError


def test_every_error_is_a_dedupe_error():
    for cls in (InputError, ConfigError, FingerprintMismatch, BackendError, ModelError):
        assert issubclass(cls, DedupeError)


def test_messages_name_the_place_and_the_fix():
    assert str(InputError("bad", source="a.jsonl", line=3, hint="fix it")) == "a.jsonl:3: bad (fix it)"
    assert str(InputError("bad", source="dir")) == "dir: bad"
    assert str(DedupeError("plain")) == "plain"
