"""Candidates: the registration system's feed (import), and the reads other services make
(contact for notify, profile and ID card verdicts for review)."""
import hmac
import time

from common.errors import NotFound
from services.auth import domain
from services.auth.repository import DuplicateIdNumber

PREVIEW_LIMIT = 500  # changed rows listed in a preview (all are counted)


class CandidateDirectory:
    def __init__(self, repo, vault, exam_day):
        self.repo = repo
        self.vault = vault        # PiiVault: ID numbers and phones sealed, compared by hash
        self.exam_day = exam_day  # AUTH.EXAM_DAY: a card must last until this day of the exam year

    # -- the registration system's feed ----------------------------------------------------
    def import_candidates(self, records, principal):
        summary = {"created": 0, "updated": 0, "unchanged": 0, "errors": []}
        for index, raw in enumerate(records):
            try:
                record = domain.parse_record(raw)
                self._check_import_scope(record, principal)
                summary[self._import_one(record)] += 1
            except domain.RecordInvalid as exc:
                summary["errors"].append({"index": index, "message": str(exc), "messages": exc.messages})
            except DuplicateIdNumber:
                summary["errors"].append({"index": index, "message": "身份证号与其他报名号重复"})
        return summary

    def preview_import(self, rows, principal):
        """What importing `rows` [(row number, record)] would change, without changing it:
        per row created / updated (with the changed fields' names) / unchanged, or its
        error. A row carrying a password is refused as the import refuses it
        (domain.parse_record); ID numbers and phones are compared by their keyed hashes and
        never shown."""
        summary = {"rows": len(rows), "created": 0, "updated": 0, "unchanged": 0, "errors": [],
                   "changes": []}
        parsed, seen = [], set()
        for number, raw in rows:
            try:
                record = domain.parse_record(raw)
                self._check_import_scope(record, principal)
                if record.registration_number in seen:
                    raise domain.RecordInvalid("报名号在文件中重复")
                seen.add(record.registration_number)
                parsed.append((number, record))
            except domain.RecordInvalid as exc:
                summary["errors"].append(_row_error(number, raw, *exc.messages))
        stored = self.repo.get_candidates([record.registration_number for _, record in parsed])
        for number, record in parsed:
            outcome = self._preview_one(record, stored.get(record.registration_number))
            if isinstance(outcome, str):
                summary["errors"].append(_row_error(number, {"registration_number": record.registration_number},
                                                    outcome))
                continue
            summary[outcome["action"]] += 1
            if outcome["action"] != "unchanged" and len(summary["changes"]) < PREVIEW_LIMIT:
                summary["changes"].append(dict(outcome, row=number,
                                               registration_number=record.registration_number))
        return summary

    def _preview_one(self, record, stored):
        id_hash = self.vault.lookup_hash("id_number", record.id_number)
        holder = self.repo.find_candidate_by_id_hash(id_hash)
        if holder is not None and holder["_id"] != record.registration_number:
            return "身份证号与其他报名号重复"
        if stored is None:
            return {"action": "created", "fields": [], "details": {}}
        fields = domain.changed_profile_fields(stored, record, self.vault.lookup_hash("phone", record.phone))
        details = {f: {"before": stored[f], "after": getattr(record, f)}
                   for f in ("region", "site", "category") if f in fields}
        for name in ("name", "exam_year"):
            if stored[name] != getattr(record, name):
                fields.append(name)
                details[name] = {"before": stored[name], "after": getattr(record, name)}
        if stored["id_number"]["hash"] != id_hash:
            fields.append("id_number")
        return {"action": "updated" if fields else "unchanged", "fields": fields, "details": details}

    def apply_import(self, rows, principal):
        """Import the rows through the feed's own path; errors name the file's rows."""
        summary = self.import_candidates([raw for _, raw in rows], principal)
        summary["errors"] = [_row_error(rows[e["index"]][0], rows[e["index"]][1], *e.get("messages", [e["message"]]))
                             for e in summary["errors"]]
        return summary

    @staticmethod
    def _check_import_scope(record, principal):
        if principal.role != domain.REGISTRATION_ROLE and not principal.covers(record.region, record.site):
            raise domain.RecordInvalid("记录不属于您管理的考区或考点")

    def _import_one(self, record, attempts=3):
        for _ in range(attempts):
            stored = self.repo.get_candidate(record.registration_number)
            if stored is None:
                if self.repo.insert_candidate(self._new_candidate(record)):
                    return "created"
                continue
            changes, events = self._candidate_changes(stored, record)
            if not changes:
                return "unchanged"
            if self.repo.update_candidate(stored, changes, events):
                return "updated"
        raise domain.RecordInvalid("记录正被并发修改，请重试")

    def _new_candidate(self, record):
        rid = record.registration_number
        return {
            "_id": rid, "name": record.name, "region": record.region, "site": record.site,
            "category": record.category, "exam_year": record.exam_year,
            "id_number": self.vault.seal("id_number", record.id_number, rid),
            "phone": self.vault.seal("phone", record.phone, rid),
            "created_at": time.time(), "updated_at": time.time(), "outbox_n": 0}

    def _candidate_changes(self, stored, record):
        rid = record.registration_number
        phone_hash = self.vault.lookup_hash("phone", record.phone)
        changed = domain.changed_profile_fields(stored, record, phone_hash)
        changes = {field: getattr(record, field) for field in ("region", "site", "category")
                   if field in changed}
        if "phone" in changed:
            changes["phone"] = self.vault.seal("phone", record.phone, rid)
        if stored["name"] != record.name:
            changes["name"] = record.name
        if stored["exam_year"] != record.exam_year:
            changes["exam_year"] = record.exam_year
        if stored["id_number"]["hash"] != self.vault.lookup_hash("id_number", record.id_number):
            changes["id_number"] = self.vault.seal("id_number", record.id_number, rid)
        events = [domain.profile_changed_event(record, changed)] if changed else []
        return changes, events

    # -- reads for other services ------------------------------------------------------------
    def contact(self, candidate_id):
        candidate = self._candidate(candidate_id)
        return {"candidate_id": candidate_id, "name": candidate["name"],
                "phone": self.vault.open("phone", candidate["phone"], candidate_id)}

    def profile(self, candidate_id):
        candidate = self._candidate(candidate_id)
        return {"candidate_id": candidate_id, "name": candidate["name"],
                "id_number_masked": candidate["id_number"]["masked"],
                "phone_masked": candidate["phone"]["masked"], "region": candidate["region"],
                "site": candidate["site"], "category": candidate["category"],
                "exam_year": candidate["exam_year"]}

    def compare_identity(self, candidate_id, id_number, name, expires):
        """Verdicts on what review's reader read off an ID card, against the registration:
        the number by its keyed hash (never decrypted), the name as written, the card's end
        against the exam date of the candidate's exam year. Only verdicts go back."""
        candidate = self._candidate(candidate_id)
        same = bool(id_number) and hmac.compare_digest(
            candidate["id_number"]["hash"], self.vault.lookup_hash("id_number", str(id_number)))
        exam_on = domain.exam_date(candidate["exam_year"], self.exam_day)
        return {"id_number": domain.number_verdict(id_number, same),
                "name": domain.name_verdict(name, candidate["name"]),
                "expired": domain.expired_by(expires, exam_on)}

    def candidate_by_id_number(self, id_number):
        """{"candidate_id"} of the candidate registered with this ID number, or None."""
        if not id_number:
            return None
        found = self.repo.find_candidate_by_id_hash(self.vault.lookup_hash("id_number", str(id_number)))
        return {"candidate_id": found["_id"]} if found else None

    def _candidate(self, candidate_id):
        candidate = self.repo.get_candidate(str(candidate_id))
        if candidate is None:
            raise NotFound("没有该考生")
        return candidate


def _row_error(number, raw, *messages):
    """A per-row refusal that names the row and its registration number, never more:
    every reason the row has (`messages`), and them joined (`message`)."""
    rid = raw.get("registration_number") if isinstance(raw, dict) else None
    return {"row": number, "registration_number": str(rid or "")[:20], "message": "；".join(messages),
            "messages": list(messages)}
