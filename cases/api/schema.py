"""drf-spectacular post-processing: every operation documents its problem+json answers, so a client (and the
contract test) knows each status it may get."""

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; detail in Chinese, detail_en in English; errors name the field.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "detail_en": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "detail": {"type": "string"},
                    "detail_en": {"type": "string"},
                },
                "required": ["field", "detail", "detail_en"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "detail_en", "errors"],
}
DESCRIPTIONS = {
    "400": "请求内容有误 / invalid request",
    "401": "缺少或无效的接口密钥 / missing or invalid API key",
    "403": "没有所需的权限范围 / scope missing",
    "404": "未找到或不属于本机构 / not found or not yours",
    "405": "不支持该方法 / method not allowed",
    "406": "只提供 JSON / JSON only",
    "409": "冲突 / conflict",
    "413": "请求体过大 / body too large",
    "415": "不支持的格式 / unsupported media type",
    "422": "无法办理 / refused by a rule",
    "428": "缺少 Idempotency-Key / Idempotency-Key required",
    "429": "请求过于频繁 / rate limited",
}


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            is_public = operation.get("security") == [] or "/public/" in path
            codes = ["400", "404", "405", "406", "413", "415", "429"]
            if not is_public:
                codes += ["401", "403"]
            if method == "post":
                codes += ["409", "422"] + ([] if is_public else ["428"])
            for code in codes:
                operation["responses"].setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                    },
                )
    return result
