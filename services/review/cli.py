"""审核员命令行 — the reviewer's command line.

    python -m services.review.cli login [USERNAME]
    python -m services.review.cli queue [--site 3204] [--status pending] [--sort quality]
    python -m services.review.cli claim PKG        (release PKG gives it back)
    python -m services.review.cli show PKG
    python -m services.review.cli approve PKG [--note 备注]
    python -m services.review.cli return PKG TYPE:REASON [TYPE:REASON ...] [--respond-by YYYY-MM-DD]
    python -m services.review.cli reject PKG 原因
    python -m services.review.cli reasons | stats | logout

REASON is a code from `reasons` (unclear, incomplete, wrong_document, expired, mismatch),
optionally with your own words (`id_card:expired:有效期至2025年`), or `other:说明文字`.
Talks HTTPS to the system's one origin (--url, $EXAM_URL, default http://127.0.0.1:8000):
sign-in at /auth/staff/login, the review methods at /rpc/review/... (DESIGN §5).
"""
import argparse
import getpass
import os
import sys

from common.rpc_client import NotSignedIn, RpcRefused, StaffSession, TokenStore, Unreachable
from services.review import console, domain

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
DEFAULT_URL = "http://127.0.0.1:8000"
KIND_NAMES = {"unauthenticated": "未登录或登录已失效", "forbidden": "无权操作", "not_found": "未找到",
              "conflict": "操作冲突", "invalid_transition": "当前状态不允许此操作",
              "validation_error": "输入有误", "rate_limited": "操作过于频繁", "unavailable": "服务暂时不可用"}


class CliError(Exception):
    def __init__(self, message, code=EXIT_REFUSED):
        super().__init__(message)
        self.code = code


# -- talking to the system -----------------------------------------------------------------------
class Session:
    def __init__(self, url, store):
        self.url = url
        self.store = store
        self.staff = StaffSession(url, store)

    def attempt(self, action, plain=False):
        """Run `action()`; every failure becomes a CliError with a message a person can act
        on (`plain`: the system's own words, without the kind of refusal in front)."""
        try:
            return action()
        except NotSignedIn as exc:
            raise CliError(f"{exc}，请先运行：python -m services.review.cli login") from None
        except RpcRefused as exc:
            raise refusal(exc, plain) from None
        except Unreachable:
            raise CliError(f"审核系统暂时无法访问（{self.url}），请稍后再试或检查 --url", EXIT_UNREACHABLE) from None

    def review(self, method, **kwargs):
        return self.attempt(lambda: self.staff.client().call("review", method, **kwargs))


def refusal(exc, plain=False):
    if plain:
        return CliError(exc.message)
    hint = "，请重新登录：python -m services.review.cli login" if exc.code == "unauthenticated" else ""
    return CliError(f"{KIND_NAMES.get(exc.code, '操作失败')}：{exc.message}{hint}")


# -- commands ------------------------------------------------------------------------------------
def cmd_login(session, args):
    username = args.username or input("用户名: ").strip()
    password = getpass.getpass("密码: ")
    otp = input("动态验证码（未绑定的直接回车）: ").strip() or None
    session.attempt(lambda: session.staff.login(username, password, otp), plain=True)
    print(f"已登录：{username}（凭据保存在 {session.store.path}，仅本人可读）")


def cmd_logout(session, args):
    session.store.clear()
    print("已退出登录")


def cmd_queue(session, args):
    page = session.review("list_queue", site=args.site, status=args.status, limit=args.limit,
                          after=args.after, sort=args.sort)
    if not page["items"]:
        print("队列为空")
        return
    print(console.table(
        ["材料包", "姓名", "考点", "次数", "状态", "提交时间", "最低清晰度", "图片", "审核人"],
        [[i["package_id"], i["name"], i["site"], i["attempt"], i["status_name"],
          console.local_time(i["submitted_at"]), i["quality"], i["images"],
          console.staff_name(i["claim"]["reviewer_id"]) if i["claim"] else None]
         for i in page["items"]]))
    if page["next"]:
        print(f"\n下一页：--after '{page['next']}'")


def cmd_claim(session, args):
    case = session.review("claim", package_id=args.package_id)
    print(f"已领取 {case['package_id']}（第{case['attempt']}次提交），"
          f"请在 {console.local_time(case['claim']['lease_until'])} 前作出审核结论")


def cmd_release(session, args):
    session.review("release", package_id=args.package_id)
    print(f"已放回队列：{args.package_id}")


def cmd_show(session, args):
    case = session.review("get_case", package_id=args.package_id)
    print(render_case(case))


def render_case(case):
    person = case.get("candidate") or {}
    claim = case.get("claim")
    lines = [f"材料包 {case['package_id']}  第{case['attempt']}次提交  {case['status_name']}",
             f"考生 {person.get('name', '-')}  证件号 {person.get('id_number_masked', '-')}  "
             f"考点 {case['site']}  类别 {case.get('category') or '-'}",
             f"提交于 {console.local_time(case.get('submitted_at'))}  审核人 "
             + (f"{console.staff_name(claim['reviewer_id'])}（至 {console.local_time(claim['lease_until'])}）"
                if claim else "-"), ""]
    rows, links = [], []
    for item in case["items"]:
        for image in item["images"]:
            links.append(image.get("url") or "（图片信息尚未同步）")
            rows.append([len(links), item["material_type"], image["image_id"][:8],
                         f"{image.get('width')}x{image.get('height')}", image.get("sharpness"),
                         hint(image)])
    lines.append(console.table(["#", "材料类型", "图片", "尺寸", "清晰度", "提示"], rows))
    expires = next((i.get("url_expires_at") for item in case["items"] for i in item["images"]
                    if i.get("url_expires_at")), None)
    lines.append(f"\n图片链接（{console.local_time(expires)} 前有效）：")
    lines += [f"  [{n}] {link}" for n, link in enumerate(links, 1)]
    lines.append("\n记录：")
    lines += [f"  {console.local_time(h.get('at'))}  第{h.get('attempt')}次  "
              f"{h.get('action_name') or h.get('action')}  {console.staff_name(h.get('by'))}"
              for h in case.get("history", [])]
    return "\n".join(lines)


def hint(image):
    """One short note per kind of match: how many, and the closest."""
    notes = []
    for kind, what in (("other_candidate", "其他考生的图片"), ("previously_returned", "已退回的图片")):
        flags = [f for f in image.get("duplicates", []) if f["kind"] == kind]
        if flags:
            closest = "完全相同" if flags[0]["identical"] else f"相似，最小差异{flags[0]['distance']}位"
            notes.append(f"与{len(flags)}张{what}{closest}")
    return "；".join(notes) or None


def cmd_approve(session, args):
    session.review("approve", package_id=args.package_id, note=args.note)
    print(f"已审核通过：{args.package_id}")


def cmd_reject(session, args):
    session.review("reject", package_id=args.package_id, reason=args.reason)
    print(f"已提出不通过意见，待另一位审核员复核：{args.package_id}")


def cmd_confirm_reject(session, args):
    session.review("confirm_reject", package_id=args.package_id)
    print(f"已复核确认不通过：{args.package_id}")


def cmd_return(session, args):
    items = [parse_return_item(text) for text in args.items]
    session.review("return_materials", package_id=args.package_id, items=items, respond_by=args.respond_by)
    print(f"已退回修改：{args.package_id}（{', '.join(i['material_type'] for i in items)}）")


def parse_return_item(text):
    """TYPE:CODE, TYPE:CODE:说明 or TYPE:other:说明 -> {"material_type", "reason"}."""
    material_type, _, reason = text.partition(":")
    code, _, words = reason.partition(":")
    if not material_type or not code:
        raise CliError(f"退回项格式应为 材料类型:原因，例如 degree_certificate:unclear（收到 {text!r}）",
                       EXIT_USAGE)
    return {"material_type": material_type,
            "reason": {"code": code, "text": words} if words else code}


def cmd_reasons(session, args):
    print(console.table(["代码", "名称", "告知考生的说明"],
                        [[code, label, text or "（由审核员填写）"]
                         for code, (label, text) in domain.REASONS.items()]))


def cmd_stats(session, args):
    counts = session.review("stats", region=args.region, site=args.site)
    print(console.table(["状态", "数量"], [[domain.STATUS_NAMES[s], counts.get(s, 0)]
                                          for s in domain.STATUSES]))


COMMANDS = {"login": cmd_login, "logout": cmd_logout, "queue": cmd_queue, "claim": cmd_claim,
            "release": cmd_release, "show": cmd_show, "approve": cmd_approve,
            "reject": cmd_reject, "confirm-reject": cmd_confirm_reject, "return": cmd_return, "reasons": cmd_reasons,
            "stats": cmd_stats}


def parser():
    p = argparse.ArgumentParser(prog="python -m services.review.cli", description="审核员命令行")
    p.add_argument("--url", default=os.environ.get("EXAM_URL", DEFAULT_URL),
                   help=f"审核系统地址（默认 $EXAM_URL 或 {DEFAULT_URL}）")
    sub = p.add_subparsers(dest="command", required=True, metavar="命令")
    sub.add_parser("login", help="登录").add_argument("username", nargs="?")
    sub.add_parser("logout", help="退出登录")
    queue = sub.add_parser("queue", help="查看待审核队列")
    queue.add_argument("--site")
    queue.add_argument("--status", default=domain.PENDING, choices=domain.STATUSES)
    queue.add_argument("--sort", choices=["oldest", "quality"])
    queue.add_argument("--limit", type=int, default=50)
    queue.add_argument("--after")
    for name, text in (("claim", "领取"), ("release", "放回队列"), ("show", "查看材料")):
        sub.add_parser(name, help=text).add_argument("package_id")
    approve = sub.add_parser("approve", help="审核通过")
    approve.add_argument("package_id")
    approve.add_argument("--note")
    reject = sub.add_parser("reject", help="提出审核不通过意见（须另一位审核员复核）")
    reject.add_argument("package_id")
    reject.add_argument("reason")
    sub.add_parser("confirm-reject", help="复核确认另一位审核员提出的不通过意见").add_argument("package_id")
    ret = sub.add_parser("return", help="退回修改")
    ret.add_argument("package_id")
    ret.add_argument("items", nargs="+", metavar="TYPE:REASON")
    ret.add_argument("--respond-by")
    sub.add_parser("reasons", help="退回原因一览")
    stats = sub.add_parser("stats", help="统计")
    stats.add_argument("--region")
    stats.add_argument("--site")
    return p


def main(argv=None, store=None):
    args = parser().parse_args(argv)
    try:
        COMMANDS[args.command](Session(args.url, store or TokenStore()), args)
    except CliError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("\n已取消", file=sys.stderr)
        return 130
    except Exception as exc:  # a person at a terminal gets a sentence, not a stack trace
        if os.environ.get("EXAM_REVIEW_DEBUG"):
            raise
        print(f"错误：意外故障（{type(exc).__name__}），请联系管理员；"
              f"设置 EXAM_REVIEW_DEBUG=1 可查看详情", file=sys.stderr)
        return EXIT_REFUSED
    return 0


if __name__ == "__main__":
    import signal
    import warnings
    warnings.filterwarnings("ignore")  # eventlet's deprecation notice is not for reviewers
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... | head` ends quietly
    sys.exit(main())
