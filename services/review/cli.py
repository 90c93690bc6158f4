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
Reads AMQP_URI from the config file (--config, $EXAM_CONFIG or ./config.yaml).
"""
import argparse
import getpass
import os
import socket
import sys

from services.review import console, domain

EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3
ACTIONS = {"submitted": "考生提交", "claim": "领取", "release": "放回队列", "approve": "审核通过",
           "reject": "审核不通过", "return": "退回修改", "withdrawn": "考生撤回",
           "reopened": "报考信息变更，重新打开", "profile_changed": "考生考点或类别变更"}
KIND_NAMES = {"Unauthenticated": "未登录或登录已失效", "Forbidden": "无权操作", "NotFound": "未找到",
              "Conflict": "操作冲突", "InvalidTransition": "当前状态不允许此操作",
              "ValidationError": "输入有误"}


class CliError(Exception):
    def __init__(self, message, code=EXIT_REFUSED):
        super().__init__(message)
        self.code = code


# -- talking to the services ---------------------------------------------------------------------
class Session:
    def __init__(self, config, store):
        self.config = config
        self.store = store

    def call(self, service, method, *args, token=None, plain=False, **kwargs):
        """One RPC; every failure becomes a CliError with a message a person can act on
        (`plain`: the service's own words, without the kind of refusal in front)."""
        # Imported here: `reasons` and `logout` need no broker and should not wait for one.
        from kombu.exceptions import OperationalError
        from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
        from nameko.standalone.rpc import ClusterRpcProxy
        context = {"client": f"cli:{getpass.getuser()}@{socket.gethostname()}"}
        if token:
            context["authorization"] = f"Bearer {token}"
        try:
            with ClusterRpcProxy(self.config, timeout=20, context_data=context) as proxy:
                return getattr(getattr(proxy, service), method)(*args, **kwargs)
        except RemoteError as exc:
            raise refusal(exc, plain) from None
        except (RpcTimeout, UnknownService):
            raise CliError("审核服务暂时无法访问，请稍后再试", EXIT_UNREACHABLE) from None
        except (OperationalError, ConnectionError, socket.timeout) as exc:
            raise CliError(f"无法连接消息服务器（{type(exc).__name__}），请检查配置中的 AMQP_URI",
                           EXIT_UNREACHABLE) from None

    def review(self, method, *args, **kwargs):
        return self.call("review", method, *args, token=self.token(), **kwargs)

    def token(self):
        record = self.store.load()
        if record is None:
            raise CliError("尚未登录，请先运行：python -m services.review.cli login")
        if not self.store.fresh(record):
            if not record.get("refresh_token"):
                raise CliError("登录已过期，请重新登录：python -m services.review.cli login")
            tokens = self.call("auth", "refresh_staff", record["refresh_token"])
            record = self.store.save(record.get("username"), tokens)
        return record["access_token"]


def refusal(exc, plain=False):
    if plain:
        return CliError(exc.value)
    hint = "，请重新登录：python -m services.review.cli login" if exc.exc_type == "Unauthenticated" else ""
    return CliError(f"{KIND_NAMES.get(exc.exc_type, '操作失败')}：{exc.value}{hint}")


# -- commands ------------------------------------------------------------------------------------
def cmd_login(session, args):
    username = args.username or input("用户名: ").strip()
    password = getpass.getpass("密码: ")
    tokens = session.call("auth", "login_staff", username, password, plain=True)
    session.store.save(username, tokens)
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
        [[i["package_id"], i["name"], i["site"], i["attempt"], domain.STATUS_NAMES[i["status"]],
          console.local_time(i["submitted_at"]), i["quality"], i["images"],
          console.staff_name(i["claim"]["reviewer_id"]) if i["claim"] else None]
         for i in page["items"]]))
    if page["next"]:
        print(f"\n下一页：--after '{page['next']}'")


def cmd_claim(session, args):
    case = session.review("claim", args.package_id)
    print(f"已领取 {case['package_id']}（第{case['attempt']}次提交），"
          f"请在 {console.local_time(case['claim']['lease_until'])} 前作出审核结论")


def cmd_release(session, args):
    session.review("release", args.package_id)
    print(f"已放回队列：{args.package_id}")


def cmd_show(session, args):
    case = session.review("get_case", args.package_id)
    print(render_case(case))


def render_case(case):
    person = case.get("candidate") or {}
    claim = case.get("claim")
    lines = [f"材料包 {case['package_id']}  第{case['attempt']}次提交  {domain.STATUS_NAMES[case['status']]}",
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
              f"{ACTIONS.get(h.get('action'), h.get('action'))}  {console.staff_name(h.get('by'))}"
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
    session.review("approve", args.package_id, note=args.note)
    print(f"已审核通过：{args.package_id}")


def cmd_reject(session, args):
    session.review("reject", args.package_id, args.reason)
    print(f"已审核不通过：{args.package_id}")


def cmd_return(session, args):
    items = [parse_return_item(text) for text in args.items]
    session.review("return_materials", args.package_id, items, respond_by=args.respond_by)
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
            "reject": cmd_reject, "return": cmd_return, "reasons": cmd_reasons,
            "stats": cmd_stats}


def parser():
    p = argparse.ArgumentParser(prog="python -m services.review.cli", description="审核员命令行")
    p.add_argument("--config", default=None, help="配置文件（默认 $EXAM_CONFIG 或 config.yaml）")
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
    reject = sub.add_parser("reject", help="审核不通过")
    reject.add_argument("package_id")
    reject.add_argument("reason")
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
        from common.config import load_config
        config = load_config(args.config) if args.command not in ("logout", "reasons") else {}
        COMMANDS[args.command](Session(config, store or console.TokenStore()), args)
    except CliError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return exc.code
    except FileNotFoundError as exc:
        print(f"错误：找不到配置文件 {exc.filename}（用 --config 指定）", file=sys.stderr)
        return EXIT_USAGE
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
