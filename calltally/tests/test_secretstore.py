"""The storage key: made once, owner-only, overridden by the environment, and a clear word when it is wrong."""

from __future__ import annotations

import stat
import threading

import pytest
from cryptography.fernet import Fernet

from calltally import secretstore
from calltally.secretstore import KEY_VARIABLE, StorageKeyError


@pytest.fixture
def data_dir(tmp_path, settings, monkeypatch):
    settings.DATA_DIR = tmp_path
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    return tmp_path


def test_the_key_file_is_made_on_the_first_encryption_readable_by_its_owner_only(data_dir):
    key_file = data_dir / "secret_storage_key"
    assert secretstore.current_key() is None and not key_file.exists()
    token = secretstore.encrypt("pw-Secret-9")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "pw-Secret-9" not in token and secretstore.decrypt(token) == "pw-Secret-9"
    first = key_file.read_bytes()
    secretstore.encrypt("another")
    assert key_file.read_bytes() == first == secretstore.current_key().encode()
    assert [path.name for path in data_dir.iterdir()] == ["secret_storage_key"]  # no temporary file left


def test_decrypting_never_makes_a_key_and_says_the_key_is_lost(data_dir):
    token = secretstore.encrypt("pw-Secret-9")
    (data_dir / "secret_storage_key").unlink()
    with pytest.raises(StorageKeyError, match="there is no storage key: .*secret_storage_key does not exist") as error:
        secretstore.decrypt(token)
    assert error.value.lost and not (data_dir / "secret_storage_key").exists()


def test_the_key_in_the_environment_overrides_the_file(data_dir, monkeypatch):
    from_file = secretstore.encrypt("pw-Secret-9")
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())
    from_environment = secretstore.encrypt("pw-Secret-9")
    assert secretstore.decrypt(from_environment) == "pw-Secret-9"
    with pytest.raises(StorageKeyError, match=f"the key in {KEY_VARIABLE} is not the key it was encrypted with"):
        secretstore.decrypt(from_file)
    monkeypatch.setenv(KEY_VARIABLE, (data_dir / "secret_storage_key").read_text())
    assert secretstore.decrypt(from_file) == "pw-Secret-9"


def test_a_malformed_key_is_named_and_is_not_taken_for_a_lost_one(data_dir, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "not-a-key")
    with pytest.raises(StorageKeyError, match=f"{KEY_VARIABLE} is not a storage key") as error:
        secretstore.encrypt("pw-Secret-9")
    assert not error.value.lost
    monkeypatch.delenv(KEY_VARIABLE)
    (data_dir / "secret_storage_key").write_text("damaged")
    with pytest.raises(StorageKeyError, match="does not hold a storage key"):
        secretstore.encrypt("pw-Secret-9")
    assert (data_dir / "secret_storage_key").read_text() == "damaged"  # never replaced behind one's back


def test_threads_making_the_key_at_once_all_end_up_with_the_same_one(data_dir):
    # Services starting together on a fresh data dir each store a secret: none may encrypt with a key
    # that another one then replaces.
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def store(number: int) -> None:
        barrier.wait()
        tokens.append(secretstore.encrypt(f"secret {number}"))

    threads = [threading.Thread(target=store, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(secretstore.decrypt(token) for token in tokens) == [f"secret {number}" for number in range(8)]
    assert [path.name for path in data_dir.iterdir()] == ["secret_storage_key"]
