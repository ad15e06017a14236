"""S3 conditional writes and deletes with AWS's codes, messages and
atomicity (tests/emulator/ahi_emulator/s3_conditional.py), and holds
(holds.py), which park a call in flight so a test can interleave exactly."""

import threading

import pytest
from botocore.exceptions import ClientError

from conftest import wait_until

PRECONDITION = ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")


def error(e):
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(control, aws):
    client = aws("s3")
    client.create_bucket(Bucket="cond")
    return client


def test_if_none_match_star_creates_once_and_then_answers_412(s3):
    s3.put_object(Bucket="cond", Key="state", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="cond", Key="state", Body=b"two", IfNoneMatch="*")
    assert (error(e), status(e)) == (PRECONDITION, 412)
    assert s3.get_object(Bucket="cond", Key="state")["Body"].read() == b"one"


def test_if_match_writes_only_over_the_etag_it_names(s3):
    first = s3.put_object(Bucket="cond", Key="state", Body=b"one")["ETag"]
    second = s3.put_object(Bucket="cond", Key="state", Body=b"two", IfMatch=first)["ETag"]
    assert second != first
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="cond", Key="state", Body=b"three", IfMatch=first)
    assert (error(e), status(e)) == (PRECONDITION, 412)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="cond", Key="absent", Body=b"x", IfMatch=first)
    assert (error(e)[0], status(e)) == ("NoSuchKey", 404)
    assert s3.get_object(Bucket="cond", Key="state")["Body"].read() == b"two"


def test_conditional_deletes_take_an_etag_or_a_star(s3):
    etag = s3.put_object(Bucket="cond", Key="lock", Body=b"mine")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket="cond", Key="lock", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert (error(e), status(e)) == (PRECONDITION, 412)
    assert s3.get_object(Bucket="cond", Key="lock")["Body"].read() == b"mine"
    assert s3.delete_object(Bucket="cond", Key="lock", IfMatch=etag)["ResponseMetadata"]["HTTPStatusCode"] == 204
    for condition in (etag, "*"):
        with pytest.raises(ClientError) as e:
            s3.delete_object(Bucket="cond", Key="lock", IfMatch=condition)
        assert (error(e)[0], status(e)) == ("NoSuchKey", 404)
    s3.put_object(Bucket="cond", Key="lock", Body=b"again")
    assert s3.delete_object(Bucket="cond", Key="lock", IfMatch="*")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "Contents" not in s3.list_objects_v2(Bucket="cond")


def race(writers, write):
    """Starts `writers` threads at one barrier; returns each one's outcome."""
    barrier = threading.Barrier(writers)
    outcomes = [None] * writers

    def run(i):
        barrier.wait()
        try:
            outcomes[i] = ("won", write(i))
        except ClientError as e:
            outcomes[i] = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a writer never finished"
    return outcomes


def test_racing_writers_exactly_one_wins_every_time(s3):
    for trial in range(50):
        key = f"lock-{trial}"
        outcomes = race(6, lambda i: s3.put_object(Bucket="cond", Key=key, Body=f"writer {i}".encode(),
                                                   IfNoneMatch="*"))
        winners = [i for i, (what, _) in enumerate(outcomes) if what == "won"]
        assert len(winners) == 1, f"trial {trial}: {outcomes}"
        assert sorted(o for o in outcomes if o[0] != "won") == [("PreconditionFailed", 412)] * 5
        body = s3.get_object(Bucket="cond", Key=key)["Body"].read()
        assert body == f"writer {winners[0]}".encode()

        # Compare-and-swap on the winner's ETag: again exactly one.
        etag = s3.head_object(Bucket="cond", Key=key)["ETag"]
        outcomes = race(6, lambda i: s3.put_object(Bucket="cond", Key=key, Body=f"next {i}".encode(), IfMatch=etag))
        assert [o[0] for o in outcomes].count("won") == 1, f"trial {trial}: {outcomes}"


def test_a_delete_landing_during_a_conditional_write_answers_409(control, s3):
    etag = s3.put_object(Bucket="cond", Key="state", Body=b"one")["ETag"]
    hold = control.call("POST", "/_ahi/holds", {"operation": "s3:PutObject", "target": "/cond/state"})
    outcome = {}

    def writer():
        try:
            s3.put_object(Bucket="cond", Key="state", Body=b"two", IfMatch=etag)
            outcome["result"] = "won"
        except ClientError as e:
            outcome["result"] = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: control.call("GET", "/_ahi/holds")[0]["waiting"] == 1, what="the write in flight")
    s3.delete_object(Bucket="cond", Key="state")
    control.call("POST", "/_ahi/holds/release", {"id": hold["id"]})
    thread.join(timeout=30)
    assert outcome["result"] == ("ConditionalRequestConflict", 409)
    assert "Contents" not in s3.list_objects_v2(Bucket="cond")


def test_a_write_landing_during_a_conditional_delete_answers_409(control, s3):
    etag = s3.put_object(Bucket="cond", Key="lock", Body=b"mine")["ETag"]
    control.call("POST", "/_ahi/holds", {"operation": "s3:DeleteObject", "target": "/cond/lock"})
    outcome = {}

    def deleter():
        try:
            s3.delete_object(Bucket="cond", Key="lock", IfMatch=etag)
            outcome["result"] = "deleted"
        except ClientError as e:
            outcome["result"] = e.response["Error"]["Code"]

    thread = threading.Thread(target=deleter)
    thread.start()
    wait_until(lambda: control.call("GET", "/_ahi/holds")[0]["waiting"] == 1, what="the delete in flight")
    s3.put_object(Bucket="cond", Key="lock", Body=b"theirs")
    control.call("POST", "/_ahi/holds/release", {})
    thread.join(timeout=30)
    assert outcome["result"] == "ConditionalRequestConflict"
    assert s3.get_object(Bucket="cond", Key="lock")["Body"].read() == b"theirs"


def multipart(s3, key, body):
    upload = s3.create_multipart_upload(Bucket="cond", Key=key)["UploadId"]
    part = s3.upload_part(Bucket="cond", Key=key, UploadId=upload, PartNumber=1, Body=body)["ETag"]
    return upload, {"Parts": [{"ETag": part, "PartNumber": 1}]}


def test_multipart_uploads_are_judged_when_they_complete(s3):
    # An upload in progress is not an object: a conditional put still wins.
    upload, parts = multipart(s3, "big", b"from the upload")
    s3.put_object(Bucket="cond", Key="big", Body=b"from a put", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="cond", Key="big", UploadId=upload, MultipartUpload=parts,
                                     IfNoneMatch="*")
    assert (error(e), status(e)) == (PRECONDITION, 412)
    assert s3.get_object(Bucket="cond", Key="big")["Body"].read() == b"from a put"

    # If-Match on completion: moto ignores it; AWS (and the emulator) do not.
    upload, parts = multipart(s3, "big", b"second upload")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket="cond", Key="big", UploadId=upload, MultipartUpload=parts,
                                     IfMatch='"0123456789abcdef0123456789abcdef"')
    assert (error(e), status(e)) == (PRECONDITION, 412)
    etag = s3.head_object(Bucket="cond", Key="big")["ETag"]
    s3.complete_multipart_upload(Bucket="cond", Key="big", UploadId=upload, MultipartUpload=parts, IfMatch=etag)
    assert s3.get_object(Bucket="cond", Key="big")["Body"].read() == b"second upload"


def test_a_hold_parks_any_call_until_released(control, aws):
    logs = aws("logs")
    control.call("POST", "/_ahi/holds", {"operation": "logs:CreateLogGroup"})
    done = threading.Event()
    thread = threading.Thread(target=lambda: (logs.create_log_group(logGroupName="/held"), done.set()))
    thread.start()
    wait_until(lambda: control.call("GET", "/_ahi/holds")[0]["waiting"] == 1, what="the call parked")
    assert not done.is_set()
    assert logs.describe_log_groups(logGroupNamePrefix="/held")["logGroups"] == []
    control.call("POST", "/_ahi/holds/release", {})
    thread.join(timeout=30)
    assert done.is_set()
    assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/held")["logGroups"]] == ["/held"]
    # One call per hold by default: the next one goes straight through.
    logs.create_log_group(logGroupName="/held-2")


def test_of_two_conditional_writes_the_first_to_finish_wins(control, s3):
    # The first writer starts, then stays in flight; a second starts later
    # and finishes first. AWS judges each when it completes.
    control.call("POST", "/_ahi/holds", {"operation": "s3:PutObject", "target": "/cond/lock"})
    outcome = {}

    def slow():
        try:
            s3.put_object(Bucket="cond", Key="lock", Body=b"slow", IfNoneMatch="*")
            outcome["slow"] = "won"
        except ClientError as e:
            outcome["slow"] = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

    thread = threading.Thread(target=slow)
    thread.start()
    wait_until(lambda: control.call("GET", "/_ahi/holds")[0]["waiting"] == 1, what="the slow write in flight")
    s3.put_object(Bucket="cond", Key="lock", Body=b"fast", IfNoneMatch="*")
    control.call("POST", "/_ahi/holds/release", {})
    thread.join(timeout=30)
    assert outcome["slow"] == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket="cond", Key="lock")["Body"].read() == b"fast"


def test_a_hold_on_an_exact_path_leaves_longer_paths_alone(control, s3):
    control.call("POST", "/_ahi/holds", {"operation": "s3:GetObject", "path": "/cond/state"})
    s3.put_object(Bucket="cond", Key="state", Body=b"s")
    s3.put_object(Bucket="cond", Key="state.run-lock", Body=b"l")
    # Not parked: its path only starts with the held one.
    assert s3.get_object(Bucket="cond", Key="state.run-lock")["Body"].read() == b"l"
    assert control.call("GET", "/_ahi/holds")[0]["held"] == 0
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        body=s3.get_object(Bucket="cond", Key="state")["Body"].read()))
    thread.start()
    wait_until(lambda: control.call("GET", "/_ahi/holds")[0]["waiting"] == 1, what="the exact path parked")
    control.call("POST", "/_ahi/holds/release", {})
    thread.join(timeout=30)
    assert result["body"] == b"s"


def test_a_dropped_hold_never_reaches_the_service(control, aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="cond")
    hold = control.call("POST", "/_ahi/holds", {"operation": "s3:PutObject", "path": "/cond/state"})
    outcome = {}

    def writer():
        try:
            s3.put_object(Bucket="cond", Key="state", Body=b"lost", IfNoneMatch="*")
            outcome["result"] = "written"
        except Exception as e:  # the connection closes without an answer
            outcome["result"] = type(e).__name__

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: control.call("GET", "/_ahi/holds")[0]["waiting"] == 1, what="the write parked")
    control.call("POST", "/_ahi/holds/release", {"id": hold["id"], "drop": True})
    thread.join(timeout=30)
    assert outcome["result"] != "written"
    assert "Contents" not in s3.list_objects_v2(Bucket="cond")
