"""The cleaner's rule families: word lists, patterns, and the features of a line.

Contract: everything here is a pure function of one line of text. The rule
families are listed in :data:`RULES` (id -> description); :func:`explicit_rule`
returns the first family that recognises a line as boilerplate, with a short
reason, or None. :func:`line_features` measures a line for the statistical part
of the cleaner (:mod:`provarchive.clean`). Word lists cover several languages on
purpose: English, German, French, Spanish, Portuguese, Italian, Russian,
Indonesian, Korean, Japanese and Chinese labels for the same furniture.

Every pattern here is part of the cleaner's rules digest: changing one changes
the digest, and :data:`provarchive.clean.CLEANER_VERSION` must be bumped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from . import player_strings

RULES: dict[str, str] = {
    "ad-label": "advertising label or placeholder",
    "reading-time": "reading-time indicator",
    "trust-badge": "trust or credibility badge",
    "caption-credit": "photo caption or picture credit",
    "caption": "caption of a picture (followed by its credit, or repeated)",
    "repeated": "line repeated elsewhere on the page",
    "counter": "lone counter (comments, shares, votes)",
    "share-social": "share or social-media button",
    "newsletter": "newsletter or subscription prompt",
    "related-links": "related-links, read-more or teaser line",
    "navigation": "menu or navigation run",
    "cookie-copyright": "cookie, copyright or legal footer",
    "byline-dateline": "byline, dateline or timestamp",
    "comments": "comment-section furniture",
    "outside-body": "outside the article body (not in the main prose region)",
    "fragment": "short fragment inside the body that is not a heading (cleaners up to 2.4.0)",
    "media-player": "controls of an embedded video or audio player",
    "gallery": "slide of a picture gallery embedded in an article",
}

_CASELESS = re.IGNORECASE | re.UNICODE


def _alternation(words: Sequence[str]) -> str:
    return "|".join(
        sorted((re.escape(w).replace(r"\ ", r"\s+") for w in words), key=len, reverse=True)
    )


AD_WORDS = [
    "advertisement",
    "advertisements",
    "advertising",
    "advert",
    "ad",
    "ads",
    "sponsored",
    "sponsored content",
    "sponsored by",
    "paid content",
    "paid post",
    "promoted",
    "promoted content",
    "partner content",
    "story continues below advertisement",
    "article continues below advertisement",
    "continue reading below",
    "content continues below",
    "scroll to continue",
    "ad feedback",
    "report this ad",
    "anzeige",
    "werbung",
    "gesponsert",
    "publicité",
    "publicite",
    "sponsorisé",
    "publicidade",
    "publicidad",
    "patrocinado",
    "conteúdo patrocinado",
    "pubblicità",
    "pubblicita",
    "sponsorizzato",
    "реклама",
    "спонсорский материал",
    "광고",
    "広告",
    "スポンサー",
    "iklan",
    "advertentie",
    "reklama",
    "reklam",
    "annons",
    "mainos",
    "διαφήμιση",
    "إعلان",
    "פרסומת",
    "广告",
]
_AD = re.compile(rf"^[\W_]*(?:{_alternation(AD_WORDS)})[\W_]*$", _CASELESS)

_READING_TIME = re.compile(
    r"^[\W_]*(?:"
    r"(?:estimated\s+)?reading\s+time\s*:?\s*\d+\s*(?:min|minutes?)?"
    r"|\d+\s*(?:-\s*)?(?:min(?:ute)?s?|mins?)\.?\s+(?:read|reading|de\s+lectura|de\s+leitura|di\s+lettura|lesen|lesezeit|чтения|baca)"
    r"|(?:lesezeit|lesedauer|tempo\s+de\s+leitura|tiempo\s+de\s+lectura|tempo\s+di\s+lettura|temps\s+de\s+lecture|время\s+чтения|waktu\s+baca|읽는\s*시간|読了時間|阅读时间)\s*:?\s*(?:ca\.?\s*)?\d+.*"
    r")[\W_]*$",
    _CASELESS,
)

_TRUST = re.compile(
    r"^(?:why\s+you\s+can\s+trust\b.*|(?:this\s+)?(?:article|story)\s+(?:was\s+)?fact[-\s]checked.*|trust\s+(?:project|indicators?)\b.*|how\s+we\s+(?:test|review|fact[-\s]check)\b.*)$",
    _CASELESS,
)

CREDIT_NAMES = [
    "getty images",
    "getty",
    "reuters",
    "afp",
    "ap",
    "associated press",
    "epa",
    "epa-efe",
    "efe",
    "shutterstock",
    "istock",
    "istockphoto",
    "alamy",
    "dpa",
    "ansa",
    "xinhua",
    "pa",
    "pa images",
    "pa wire",
    "rex",
    "rex features",
    "bloomberg",
    "imago",
    "picture alliance",
    "ap photo",
    "scmp pictures",
    "handout",
    "file photo",
    "file",
    "supplied",
    "youtube",
    "twitter",
    "instagram",
]
_CREDIT_ONLY = re.compile(
    rf"^[\W_]*(?:(?:photo|image|picture|foto|bild|фото|credit|photograph|illustration)s?\s*(?:credit|by|:|/|-)?\s*)?(?:{_alternation(CREDIT_NAMES)})(?:\s*(?:/|,|via|and|&)\s*[\w .'’-]{{1,40}})?[\W_]*$",
    _CASELESS,
)
_CREDIT_SUFFIX = re.compile(
    r"(?:"
    r"\b(?:photo|image|picture|foto|fotos|bild|фото|credit|photograph|illustration|pictured)s?(?:\s+credit)?\s*(?::|by\b)\s*[^.!?]{1,80}$"
    r"|\((?:ap|afp|reuters|getty|epa|efe|xinhua|ansa|dpa|image|photo|picture|credit|foto)\b[^()]{0,80}\)\s*$"
    r"|\b(?:getty\s+images|shutterstock|istock(?:photo)?|alamy|reuters|afp|associated\s+press)\s*\)?\s*$"
    r"|^(?:image|photo|picture)\s+(?:copyright|caption|credit)\b.*"
    r"|^(?:file\s+photo|pictured|above|below|top|left|right)\s*:.*"
    r"|(?:사진|写真|图片|圖片)\s*[=:＝：].*"
    r")",
    _CASELESS,
)
_CREDIT_GLUED = re.compile(r"^(?:Photo|Image|Picture|Foto)?\s*Credits?(?=[A-ZÀ-ÖØ-Þ])")
"""A credit label scraped into the name it labels ("CreditKevin Frayer/Getty Images"):
the label and the name were two elements of one caption."""
_NAME_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_NAME_JOINERS = frozenset(
    [
        "de",
        "del",
        "da",
        "do",
        "dos",
        "das",
        "di",
        "du",
        "van",
        "von",
        "der",
        "den",
        "le",
        "la",
        "y",
        "e",
        "et",
        "und",
        "and",
        "of",
        "the",
        "for",
        "para",
        "por",
        "by",
        "via",
    ]
)


def _credited_name(rest: str) -> bool:
    """Whether what follows a run-in credit label reads as the credited name ("Kevin
    Frayer/Getty Images", "Andrew B. Myers para The New York Times"), not as a
    headline about a brand ("CreditWise review: is it worth it?", "CreditSights cuts
    its outlook"): two words or more, each capitalised or a joining word."""
    words = _NAME_WORD.findall(rest)
    if len(words) < 2 or any(ch in rest for ch in ":?!"):
        return False
    return all(w[0].isupper() or w.lower() in _NAME_JOINERS for w in words)


_PAREN_ONLY = re.compile(r"^\([^()]{1,80}\)$")

SHARE_WORDS = [
    "share",
    "share this",
    "share this article",
    "share this story",
    "share article",
    "share on facebook",
    "share on twitter",
    "share on whatsapp",
    "share on linkedin",
    "share via email",
    "share via",
    "tweet",
    "tweet this",
    "facebook",
    "twitter",
    "x",
    "linkedin",
    "pinterest",
    "reddit",
    "whatsapp",
    "telegram",
    "email",
    "e-mail",
    "mail",
    "print",
    "copy",
    "copy link",
    "copy url",
    "link copied",
    "copied",
    "copied!",
    "link",
    "embed",
    "comment",
    "save",
    "bookmark",
    "flipboard",
    "messenger",
    "show more sharing options",
    "close extra sharing options",
    "more sharing options",
    "sharing options",
    "teilen",
    "drucken",
    "compartilhar",
    "compartir",
    "imprimir",
    "condividi",
    "stampa",
    "partager",
    "imprimer",
    "поделиться",
    "печать",
    "공유",
    "공유하기",
    "シェア",
    "ツイート",
    "bagikan",
    "cetak",
    "copy link urlcopied!",
    "url copied",
    "whatsapp facebook twitter",
    "facebook twitter",
    "print this article",
    "print this page",
    "print this",
    "email this article",
    "email this",
    "share it with friends",
    "share with friends",
    "share this post",
    "share this page",
    "send to a friend",
]
_SHARE = re.compile(
    rf"^[\W_]*(?:(?:{_alternation(SHARE_WORDS)})[\W_]*)+$"
    r"|^click\s+to\s+(?:share|email|print|tweet|pin)\b.*|\(opens\s+in\s+(?:a\s+)?new\s+window\)"
    r"|^share\s+(?:on|via|this|to)\b.{0,40}$",
    _CASELESS,
)
_NAV_LINE = re.compile(
    r"^[\W_]*(?:previous|next|prev|older|newer)\s*(?:post|article|story|page|entry|posts|articles)?\s*[:»«>|-].*"
    r"|^[\W_]*(?:tags?|tagged(?:\s+with)?|filed\s+(?:under|in)|topics?|categor(?:y|ies)|posted\s+in|"
    r"related\s+(?:roundup|topics?)|themen|schlagworte|tópicos|etiquetas|temas|argomenti|теги|рубрика|태그|タグ)\s*:.*"
    r"|^[\W_]*(?:back\s+to\s+top|scroll\s+(?:back\s+)?to\s+top|skip\s+to\s+(?:main\s+)?content|jump\s+to|"
    r"go\s+to\s+(?:top|home)|home\s*[>»/|].*|you\s+are\s+here\s*:.*|breadcrumbs?)[\W_]*$"
    r"|^[\W_]*(?:skip|jump)\s+to\s+(?:the\s+)?(?:(?:main|primary|secondary|local|site|page)\s+)?"
    r"(?:content|navigation|nav|menu|sidebar|search|footer|comments|top|main)\b"
    r"(?:\s*[|\[(].{0,60})?[\W_]*$"
    r"|^«.{1,150}\|\s*(?:main|home|blog\s+home)\s*\|.{0,150}$",
    _CASELESS,
)
"""Menus and skip links ("skip to main | skip to sidebar", "Jump to comments [c]"),
and a blog's post navigation ("« Previous post | Main | Next post »")."""
_URL_ONLY = re.compile(r"^[\W_]*(?:https?://|www\.)\S+[\W_]*$", _CASELESS)
_TEASER_COUNT = re.compile(r"\S.*\(\d[\d,.]*\)$")

_NEWSLETTER = re.compile(
    r"(?:^|\b)(?:newsletters?|subscribe|subscription|subscriber|sign\s+up|sign\s+in|log\s+in|login|register|"
    r"get\s+(?:our|the)\b.*\b(?:delivered|in\s+your\s+inbox)|inbox|unsubscribe|abonnieren|abonnement|newsletter|"
    r"assine|inscreva-se|assinatura|suscríbete|suscribirse|iscriviti|abbonati|подписаться|подписка|"
    r"구독|購読|メルマガ|berlangganan|daftar)\b",
    _CASELESS,
)
_COOKIE = re.compile(
    r"(?:©|\(c\)\s*\d{4}|\bcopyright\b|all\s+rights\s+reserved|privacy\s+(?:policy|notice|settings)|"
    r"terms\s+(?:of\s+(?:service|use)|&\s+conditions|and\s+conditions)|do\s+not\s+sell\s+my|"
    r"alle\s+rechte\s+vorbehalten|todos\s+os\s+direitos\s+reservados|todos\s+los\s+derechos\s+reservados|"
    r"tutti\s+i\s+diritti\s+riservati|tous\s+droits\s+réservés|все\s+права\s+защищены|hak\s+cipta|"
    r"무단\s*전재|無断転載|版权所有|impressum|datenschutz)",
    _CASELESS,
)
_COOKIE_NOTICE = re.compile(
    r"\bcookies?\b.{0,120}\b(?:website|site|browser|consent|accept|privacy|experience|necessary|settings|"
    r"opt[-\s]out|third[-\s]part(?:y|ies)|analytics|personali[sz]ed)\b"
    r"|\b(?:website|site|we)\b.{0,60}\buses?\s+cookies\b|\bcookie\s+(?:policy|settings|preferences|consent|banner)\b",
    _CASELESS,
)
_CALL_TO_ACTION = re.compile(
    r"^(?:(?:like|enjoy(?:ed)?|love)\s+this\s+(?:story|article|post)\??\s*)?"
    r"(?:please\s+)?(?:follow|like|subscribe|sign\s+up|join|get|download|listen|watch|support|click|tap|share|"
    r"send|donate|become\s+a\s+(?:member|subscriber|patron)|receba|assine|inscreva|siga|folgen|abonniere|segui|"
    r"подпишитесь|ikuti|unduh)\b.{0,200}\b(?:newsletters?|inbox|e-?mail|twitter|facebook|instagram|youtube|"
    r"linkedin|tiktok|app|here|podcasts?|alerts?|updates|channel|website|feed|rss|friends?|us|member(?:ship)?|"
    r"ebook|boletim|telegram|whatsapp)\b.{0,120}$"
    r"|^(?:do\s+you\s+(?:rely\s+on|like|enjoy|value)|did\s+you\s+(?:like|enjoy)|support\s+(?:our|independent)|"
    r"we\s+(?:rely|depend)\s+on\s+(?:readers|you)|(?:there'?s|there\s+is)\s+plenty\s+more\s+where)\b.{0,200}$",
    _CASELESS,
)
_SUPPORT_APPEAL = re.compile(_CALL_TO_ACTION.pattern.split("|^", 1)[1].join(["^", ""]), _CASELESS)
"""The appeals to support the site among the calls to action (long ones still are)."""
_AUTHOR_BIO = re.compile(
    r"^(?:[\w.'’-]+\s){1,4}(?:is|was|has\s+been|joined)\s+(?:(?:a|an|the)\s+)?(?:[\w-]+\s){0,4}"
    r"(?:reporter|writer|journalist|correspondent|editor|contributor|columnist|producer|author|intern|"
    r"photographer|freelancer|blogger)\b"
    r"|^(?:[\w.'’-]+\s){1,3}joined\s+[\w .&'’-]{2,40}\s+in\s+(?:\w+\s)?\d{4}"
    r"|^i\s+am\s+an?\s+(?:\w+\s){0,3}(?:writer|journalist|reporter|editor|professor|author|blogger)\b",
    _CASELESS,
)
_LEGAL = re.compile(
    r"(?:may\s+not\s+be\s+(?:reproduced|republished|redistributed)|without\s+(?:the\s+)?prior\s+written\s+permission|"
    r"community\s+(?:rules|guidelines|standards)\s+apply|opinions\s+expressed\s+(?:by|here|in)|"
    r"^disclaimers?\W*$|^(?:editorial\s+)?(?:standards|ethics\s+policy|corrections\s+policy)\W*$|"
    r"please\s+(?:be\s+respectful|keep\s+(?:it|comments)\s+civil)|comment(?:s|ing)?\s+polic(?:y|ies)|"
    r"this\s+(?:slideshow|video|content)\s+requires\s+javascript|enable\s+javascript|"
    r"your\s+browser\s+(?:does\s+not|doesn't)\s+support)",
    _CASELESS,
)
RELATED_HEADS = [
    "related",
    "related articles",
    "related stories",
    "related content",
    "related coverage",
    "related posts",
    "related links",
    "related reading",
    "related topics",
    "related news",
    "related video",
    "related videos",
    "read more",
    "read next",
    "read also",
    "also read",
    "see also",
    "see more",
    "more",
    "more on this",
    "more on this story",
    "more from",
    "more stories",
    "more news",
    "more videos",
    "more content",
    "more articles",
    "more posts",
    "more headlines",
    "more like this",
    "recommended",
    "recommended for you",
    "recommended stories",
    "you may also like",
    "you might also like",
    "you may like",
    "don't miss",
    "dont miss",
    "must read",
    "most read",
    "most popular",
    "popular",
    "popular posts",
    # A blog's sidebar widgets (WordPress, Blogger, TypePad): other posts, and
    # snippets of comments on other posts ("“ The illustrations are ... ” X posted on").
    "recent posts",
    "recent comments",
    "recent articles",
    "recent entries",
    "recent tweets",
    "latest posts",
    "latest comments",
    "trending",
    "trending now",
    "top stories",
    "latest",
    "latest news",
    "latest videos",
    "latest stories",
    "editor's picks",
    "editors' picks",
    "explore further",
    "further reading",
    "what to read next",
    "up next",
    "watch next",
    "in other news",
    "around the web",
    "from the web",
    "promoted stories",
    "weiterlesen",
    "mehr zum thema",
    "lesen sie auch",
    "auch interessant",
    "leia também",
    "leia mais",
    "veja também",
    "saiba mais",
    "lea también",
    "leer más",
    "leggi anche",
    "leggi di più",
    "lire aussi",
    "à lire aussi",
    "читайте также",
    "читать далее",
    "смотрите также",
    "по теме",
    "관련기사",
    "관련 기사",
    "関連記事",
    "関連ニュース",
    "baca juga",
    "baca selengkapnya",
    "berita terkait",
    "artikel terkait",
    "相关阅读",
    "相关新闻",
]
_RELATED_HEAD = re.compile(
    rf"^[\W_]*(?:{_alternation(RELATED_HEADS)})(?:\s+(?:in|from|on)\s+[\w .&'’-]{{1,40}})?[\W_]*$"
    # "More Auto News...", "More Technology stories", "More featured posts"
    r"|^[\W_]*more\s+(?:[\w-]+\s+){1,2}(?:news|stories|articles|posts|videos|headlines)[\W_]*$",
    _CASELESS,
)
_RELATED_PREFIX = re.compile(
    rf"^[\W_]*(?:{_alternation(RELATED_HEADS)}|on\s+[\w.-]+\.(?:com|org|net|co\.uk)|also\s+on\s+[\w.-]+|related\s+post)\s*[:|»>\]-]\s*\S.*$",
    _CASELESS,
)
_BRACKET_TEASER = re.compile(
    r"^\[(?:related|see|read|more|watch)\b.*\]$|\[(?:insight|video|reaction|news|warning|pics|poll|gallery|latest|live)\]\|?$",
    _CASELESS,
)

_COUNTER = re.compile(
    r"^[\W_]*(?:\d[\d.,]*\s*[kmКМ]?|\d[\d.,]*\s*[kmКМ]?\s*(?:comments?|shares?|views?|likes?|replies|votes?|"
    r"kommentare?|comentários?|comentarios?|commenti|комментари\w*|просмотр\w*|komentar|댓글|コメント|点赞|评论))[\W_]*$"
    r"|^[\W_]*(?:comments?|shares?|views?|likes?|replies|kommentare|comentários|commenti|комментарии|komentar|댓글|コメント)"
    r"\s*[(:]?\s*\d[\d.,]*\s*[kmКМ]?\)?[\W_]*$",
    _CASELESS,
)
_COMMENTS = re.compile(
    r"^[\W_]*(?:comments?|leave\s+a\s+(?:comment|reply)|post\s+a\s+comment|add\s+a\s+comment|write\s+a\s+comment|"
    r"view\s+comments|show\s+comments|load\s+comments|join\s+the\s+(?:conversation|discussion)|reply|"
    r"log\s+in\s+to\s+comment|comments\s+are\s+closed|be\s+the\s+first\s+to\s+comment|\d+\s+comments?|"
    r"kommentare|kommentieren|comentários|comentar|commenti|комментарии|komentar|댓글|コメント)[\W_]*$",
    _CASELESS,
)

_COMMENT_FORM = re.compile(
    r"^[\W_]*(?:notify\s+me\s+of\s+(?:follow-?up\s+comments|new\s+(?:posts|comments))\b"
    r"|you\s+can\s+follow\s+any\s+responses\s+to\s+this\s+entry\b"
    r"|(?:some\s+|basic\s+)?html\s+(?:tags\s+)?(?:is\s+)?allowed\b|all\s+html\s+will\s+be\s+escaped\b"
    r"|you\s+may\s+use\s+these\s+html\s+tags\b"
    r"|you\s+must\s+be\s+logged\s+in\s+to\s+(?:post\s+a\s+comment|comment|reply)\b"
    r"|your\s+email\s+address\s+will\s+not\s+be\s+published\b)",
    _CASELESS,
)
"""The fixed lines of a blog's comment form (WordPress, Movable Type): 68 dragnet pages
print "Notify me of follow-up comments via email.", none of them as the article's."""

_REBLOG_NOTE = re.compile(
    r"^[\w.-]+\s+(?:reblogged\s+this\s+from\s+[\w.-]+(?:\s+and\s+added:)?|liked\s+this|posted\s+this)$"
    r"|^\d[\d,.]*\s+notes?\b.{0,80}$|^show\s+more\s+notes\b.{0,20}$",
    _CASELESS,
)
"""A reblogging platform's notes under a post (Tumblr: "elfgrove reblogged this from
dcwomenkickingass", "ealperin liked this", "218 notes View comments"): who passed
the post on, a comment wall of its own (dragnet's T16: 60 such lines)."""

_COMMENT_SECTION = re.compile(
    r"^[\W_]*(?:\d[\d,.]*\s+)?(?:(?:readers?|users?|visitors?)['’]?\s+)?(?:comments?|responses?|replies|thoughts?|reactions?|kommentare|comentários|"
    r"comentarios|commenti|комментари\w*|komentar|댓글|コメント)(?:\s*\(\d[\d,.]*\))?[\W_]*$"
    r"|^[\W_]*(?:\d[\d,.]*\s+(?:comments?|responses?|replies|thoughts?|reactions?)|comments|responses)"
    r"\s+(?:to|on)\b.*$"
    r"|^[\W_]*\d[\d,]*\s+\w+\s+(?:comments?|responses?|replies|thoughts|reactions)\s+(?:to|on)\s+[\"“”'‘«].*$"
    r"|^[\W_]*\d[\d,.]*\s+(?:comments?|responses?|replies)\b.{0,60}(?:below|add\s+one|leave\s+one)\b.*$"
    r"|^[\W_]*(?:top\s+rated|most\s+recent|newest|oldest|best|sort\s+by)\s+comments?\b.*"
    r"|^[\W_]*(?:leave\s+a\s+(?:comment|reply)(?:\s+cancel\s+reply)?|post\s+a\s+comment|add\s+(?:a\s+)?comment|"
    r"\d[\d,.]*\s+(?:users?|people|readers?)\s+(?:responded|commented)\s+(?:in|on|to)\b.*|"
    r"join\s+the\s+(?:conversation|discussion)|what\s+do\s+you\s+think\??|tell\s+us\s+what\s+you\s+think\W*|"
    r"discussion|conversation|comments\s+are\s+closed|view\s+all\s+comments|show\s+comments|"
    r"(?:\d+\s+)?comments?\s+(?:for|on)\s+this\s+(?:article|story|post|entry))[\W_]*$",
    _CASELESS,
)
_COMMENT_SIGNATURE = re.compile(
    r"^.{1,80}?\s(?:says|said|wrote|writes|commented|replied)(?:\.\.\.|\s*[:,])?"
    r"(?:\s+(?:on|at)\s+(?=[^\d]*\d).{1,80})?$",
    _CASELESS,
)

_MONTHS = (
    r"jan(?:uary|\.)?|feb(?:ruary|\.)?|mar(?:ch|\.)?|apr(?:il|\.)?|may|jun(?:e|\.)?|jul(?:y|\.)?|"
    r"aug(?:ust|\.)?|sep(?:t(?:ember)?|\.)?|oct(?:ober|\.)?|nov(?:ember|\.)?|dec(?:ember|\.)?|"
    r"januar|februar|märz|mai|juni|juli|oktober|dezember|janeiro|fevereiro|março|abril|maio|junho|julho|"
    r"agosto|setembro|outubro|novembro|dezembro|enero|febrero|marzo|mayo|junio|julio|septiembre|octubre|"
    r"noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    r"januari|februari|maret|mei|agustus|oktober|desember|"
    r"январ\w*|феврал\w*|март\w*|апрел\w*|ма[яй]|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*|ноябр\w*|декабр\w*"
)
_DATE = re.compile(
    rf"(?:\b\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b|\b\d{{4}}[./-]\d{{1,2}}[./-]\d{{1,2}}\b|"
    rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+)?\d{{4}}\b|"
    rf"\b\d{{1,2}}:\d{{2}}\s*(?:[ap]\.?m\.?)?\b|\d{{4}}年\d{{1,2}}月\d{{1,2}}日|\d{{4}}\.\s*\d{{1,2}}\.\s*\d{{1,2}}\.?)",
    _CASELESS,
)
_BYLINE = re.compile(
    r"^(?:by|von|por|di|par|oleh|автор|текст|written\s+by|words\s+by|reporting\s+by|posted\s+by|story\s+by)\s*:?\s+"
    r"[\w.'’-]+(?:\s+[\w.'’-]+){0,7}(?:\s*(?:,|and|&|und|e|y)\s*[\w.'’-]+(?:\s+[\w.'’-]+){0,4})*"
    r"(?:\s*[|,]\s*.*|\s+(?:on|at)\s+\S.{0,40})?$",
    _CASELESS,
)
_BYLINE_START = re.compile(_BYLINE.pattern.split(r"\s*:?\s+", 1)[0] + r"\s", _CASELESS)
"""How a byline opens; a long line is measured as one only when it opens so."""
_DATELINE_WORDS = re.compile(
    r"^[\W_]*(?:published|updated|posted|last\s+updated|modified|first\s+published|veröffentlicht|aktualisiert|"
    r"publicado|atualizado|actualizado|pubblicato|aggiornato|publié|mis\s+à\s+jour|опубликовано|обновлено|"
    r"diterbitkan|diperbarui|입력|수정|更新|公開)\b",
    _CASELESS,
)

_WORD = re.compile(r"\w+", re.UNICODE)
_FEATURE_SAMPLE = 20_000
_RULE_MAX_CHARS = 2_000
_NO_SPACE_SCRIPT = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff]"
)
_END_PUNCT = re.compile(
    r"(?<!\.\.)[.!?。！？][\"'”’»)\]）」』]*"
    r"(?:\[(?:\d{1,4}|[a-z]|citation needed|note \d{1,4})\])*$"
)
"""Sentence-final punctuation; a trailing ellipsis is truncation (teasers), not an end.
Reference marks after it ("over and over.[54]", "[a]", "[citation needed]": wikis,
papers) do not hide the end of the sentence."""


_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)
"""East Asian wide and full-width characters: two columns on a terminal or in a text dump."""


def columns(text: str) -> int:
    """Display width of ``text`` as text browsers count it when they wrap lines."""
    return len(text) + len(_WIDE.findall(text))


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with sentence-final punctuation."""
    return bool(_END_PUNCT.search(text[-64:]))


_INNER_PUNCT = re.compile(r"[,;:]\s|[.!?](?:\s|$)|[，、；：。！？]")
_SPACED_PAUSE = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff][\s\u3000]+[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
"""A space between two Chinese characters: informal Chinese prose (blogs, captions)
pauses with a space where a comma would stand ("一波波接續性低溫寒流報到 已將新竹...",
readability's pixnet); a headline or a menu item seldom does."""


@dataclass
class Features:
    words: float
    tokens: int
    end_punct: bool
    inner_punct: int
    lower_ratio: float | None
    digit_ratio: float
    title_case: bool
    end_colon: bool
    spaced_pauses: int = 0
    """Spaces used as pauses between Chinese characters (see ``_SPACED_PAUSE``)."""


def line_features(text: str) -> Features:
    """Measure one (normalised) line."""
    tail = text[-64:]
    scale = 1.0
    if len(text) > _FEATURE_SAMPLE:
        # A huge line (a whole article on one line, a 50 MB dump) is measured on a
        # sample and extrapolated: the verdict is the same, the cost is bounded.
        scale = len(text) / _FEATURE_SAMPLE
        text = text[:_FEATURE_SAMPLE]
    tokens = _WORD.findall(text)
    no_space = len(_NO_SPACE_SCRIPT.findall(text))
    spaced_tokens = [t for t in tokens if not _NO_SPACE_SCRIPT.search(t)] if no_space else tokens
    words = (len(spaced_tokens) + no_space / 2.0) * scale
    # Case of each word's first letter; scripts without case (CJK, Arabic...) give none.
    initials = [t[0] for t in spaced_tokens]
    upper = sum(map(str.isupper, initials))
    lower = sum(map(str.islower, initials))
    cased = upper + lower
    # In a line mostly in a script without case, embedded Latin names and acronyms
    # ("Wi-Fi", "iOS/Android", "VPN") say nothing about whether it is prose.
    caseless = no_space / 2.0 > len(spaced_tokens)  # most of its words, as counted above
    lower_ratio = lower / cased if cased >= 3 and not caseless else None
    letters_digits = sum(map(str.isalnum, text))
    digits = sum(map(str.isdigit, text))
    title_case = cased > 0 and upper >= max(2, 0.7 * cased)
    return Features(
        words=words,
        tokens=len(tokens),
        end_punct=ends_sentence(text),
        inner_punct=len(_INNER_PUNCT.findall(text)),
        lower_ratio=lower_ratio,
        digit_ratio=digits / letters_digits if letters_digits else 0.0,
        title_case=title_case,
        end_colon=tail.endswith((":", "：")),
        spaced_pauses=len(_SPACED_PAUSE.findall(text)) if caseless else 0,
    )


# -- explicit rules ------------------------------------------------------------------------------


def explicit_rule(text: str, f: Features) -> tuple[str, str] | None:
    """The first explicit rule that matches a line, as (rule id, reason).

    Every rule targets short or medium lines; very long lines are never furniture."""
    if len(text) > _RULE_MAX_CHARS:
        return None
    short = f.words <= 12
    if _AD.match(text):
        return "ad-label", f"ad label {text[:40]!r}"
    if _READING_TIME.match(text):
        return "reading-time", "reading-time line"
    if _TRUST.match(text):
        return "trust-badge", "credibility badge"
    if _COUNTER.match(text):
        return "counter", "lone number or counter"
    if short and _SHARE.match(text):
        return "share-social", "share/social button text"
    if f.words <= 8 and _CREDIT_ONLY.match(text):
        return "caption-credit", "picture credit"
    if f.words <= 45 and not (f.words > 30 and f.end_punct) and _CREDIT_SUFFIX.search(text):
        return "caption-credit", "caption ending in a picture credit"
    if f.words <= 12 and (m := _CREDIT_GLUED.match(text)) and _credited_name(text[m.end() :]):
        return "caption-credit", "picture credit run into its label"
    if f.words <= 10 and _PAREN_ONLY.match(text):
        return "caption-credit", "parenthesised credit"
    if _URL_ONLY.match(text):
        return "navigation", "bare URL"
    if f.words <= 25 and _NAV_LINE.match(text):
        return "navigation", "navigation link (previous/next, tags, breadcrumbs)"
    if f.words <= 25 and not f.end_punct and _TEASER_COUNT.match(text):
        return "related-links", "teaser link with a count"
    if _BRACKET_TEASER.search(text):
        return "related-links", "bracketed teaser link"
    if _RELATED_HEAD.match(text):
        return "related-links", "related-links header"
    if f.words <= 30 and _RELATED_PREFIX.match(text):
        return "related-links", "read-more / related link"
    if f.words <= 8 and _COMMENTS.match(text):
        return "comments", "comment-section label"
    if f.words <= 30 and _COMMENT_FORM.match(text):
        return "comments", "comment-form line"
    if f.words <= 16 and ("this" in text or "notes" in text) and _REBLOG_NOTE.match(text):
        return "comments", "reblog or like note"
    if (
        f.words <= 25
        and not (f.words > 15 and f.end_punct and f.lower_ratio and f.lower_ratio > 0.6)
        and _COOKIE.search(text)
    ):
        return "cookie-copyright", "cookie/copyright/legal line"
    if f.words <= 80 and _COOKIE_NOTICE.search(text):
        return "cookie-copyright", "cookie-consent notice"
    if (
        f.words <= 18
        and not (f.words > 10 and f.end_punct and f.inner_punct >= 2)
        and _NEWSLETTER.search(text)
    ):
        return "newsletter", "newsletter/subscription prompt"
    if (
        f.words <= 45
        and _CALL_TO_ACTION.match(text)
        # A long sentence is the article's, even opening with "Share" (dragnet's
        # R791: "Share pics of the lipsticks ... (click here for official rules).").
        and not (f.words > 30 and f.end_punct and _SUPPORT_APPEAL.match(text) is None)
    ):
        return "newsletter", "call to action (follow, subscribe, support)"
    if f.words <= 60 and _LEGAL.search(text):
        return "cookie-copyright", "legal notice, disclaimer or comment policy"
    if f.words <= 50 and _AUTHOR_BIO.match(text):
        return "byline-dateline", "author biography"
    if (
        not f.end_punct
        and (f.words <= 12 or _BYLINE_START.match(text))
        and _byline_words(text, f) <= 12
        and _BYLINE.match(text)
    ):
        return "byline-dateline", "byline"
    if f.words <= 60 and _POST_FOOTER.match(text):
        return "navigation", "post footer (posted in, filed under)"
    if f.words <= 14 and _DATELINE_WORDS.match(text):
        return "byline-dateline", "publication/update time"
    # Every date has a digit (\d is a decimal digit, which str.isdigit counts; a line
    # this short is measured whole).
    if f.words <= 10 and not f.end_punct and f.digit_ratio > 0 and _DATE.search(text):
        residue = _DATE.sub(" ", text)
        if len(_WORD.findall(residue)) <= 4:
            return "byline-dateline", "date or time"
    return None


def _byline_words(text: str, f: Features) -> float:
    """A byline's length without the dates and times it states: "by Julie Moos
    Published Nov. 7, 2012 8:42 am Updated Nov. 7, 2012 2:01 pm" is a byline of
    five words (dragnet's R589), however many the dates add."""
    if f.words <= 12 or not _DATE.search(text):
        return f.words
    return len(_WORD.findall(_DATE.sub(" ", text)))


# -- embedded media players ----------------------------------------------------------------------

PLAYER_FILLER, PLAYER_COMMON, PLAYER_DISTINCTIVE = 1, 2, 3
_PLAYER_MAX_CHARS = 160
_PLAYER_FILLER = re.compile(r"^(?:[-–—/|:.]*|-?\d+(?::\d\d)*(?:[.,]\d+)?\s*[%x]?)$")
_PLAYER_VALUE = re.compile(r"(?:[\s:]+-?\d+(?::\d\d)*(?:[.,]\d+)?\s*[%x]?|live)$")
_PLAYER_PARTS = re.compile(r",\s*|(?<=\w)\.\s+")
_PLAYER_FILLER_START = frozenset("0123456789-–—/|:.")
_PLAYER_HEADS = frozenset(
    k.split(" ", 1)[0].rstrip(".,:") for k in player_strings.DISTINCTIVE | player_strings.COMMON
)


def _player_kind(key: str) -> int:
    if key in player_strings.DISTINCTIVE:
        return PLAYER_DISTINCTIVE
    return PLAYER_COMMON if key in player_strings.COMMON else 0


def player_control(text: str) -> int:
    """What a line is to an embedded player's control bar and caption dialog (the
    Video.js strings of :mod:`.player_strings`): 0 (nothing), PLAYER_FILLER (a lone
    value or rule: "0:00", "75%", "---"), PLAYER_COMMON (a control any page could
    name: "Play", "White") or PLAYER_DISTINCTIVE ("Current Time 0:00", "Playback
    Rate", "Proportional Sans-Serif"). A value after the label ("Loaded: 0%"), a
    state after a comma ("captions off, selected") and two labels run together
    ("Reset restore all settings to the default values") are read as the player
    writes them. Only a run of such lines is a player (see the cleaner)."""
    if not text or len(text) > _PLAYER_MAX_CHARS:
        return 0
    if text[0] in _PLAYER_FILLER_START and _PLAYER_FILLER.match(text.strip(" .,")):
        return PLAYER_FILLER
    space = text.find(" ")
    if (text if space < 0 else text[:space]).casefold().rstrip(".,:") not in _PLAYER_HEADS:
        return 0  # most lines: no control starts with their first word
    key = " ".join(text.casefold().split()).strip(" .,")
    if kind := _player_kind(key):
        return kind
    bare = _PLAYER_VALUE.sub("", key).strip(" .,")
    if bare != key and (kind := _player_kind(bare)):
        return kind
    parts = [p for p in _PLAYER_PARTS.split(bare) if p]
    if len(parts) > 1:
        kinds = [_player_kind(p) for p in parts]
        return max(kinds) if all(kinds) else 0
    words = bare.split(" ")
    for cut in range(1, len(words)):  # two labels with a space between
        kinds = [_player_kind(" ".join(words[:cut])), _player_kind(" ".join(words[cut:]))]
        if all(kinds):
            return max(kinds)
    return 0


# -- signs of a web page --------------------------------------------------------------------------

CHROME_SIGNS: dict[str, str] = {
    "ad-label": "ad labels",
    "share-social": "share buttons",
    "reading-time": "reading-time lines",
    "trust-badge": "trust badges",
    "comments": "comment-section labels",
    "cookie-notice": "cookie notices",
    "counter": "comment/share counters",
    "signature": "commenter signatures",
}
"""Families of lines that only web pages carry: one is evidence of a page scrape."""

WEAK_SIGNS: dict[str, str] = {
    "related-links": "related-links headers or teasers",
    "newsletter": "subscription prompts",
    "byline": "bylines",
    "navigation": "navigation links",
    "caption-credit": "picture credits",
}
"""Families that web pages carry but files can too (a man page's SEE ALSO, a
changelog's "(Closes: #123)", a licence's copyright line): weak evidence only."""

_LIST_MARKER = re.compile(r"^(?:[-*•+·>|#=~]|\d+[.)]\s|\(?[a-z0-9]\)\s|\[\s)", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


def page_sign(text: str, f: Features, rule: str | None) -> tuple[str, bool] | None:
    """The family of page furniture a line shows, and whether it is strong evidence
    (see :data:`CHROME_SIGNS` and :data:`WEAK_SIGNS`), or None."""
    if rule == "share-social" and text.rstrip().endswith(":"):
        # "Comment:" alone is a field label (a Debian copyright file's, a form's);
        # a button has no colon. Debian copyright files hold it by the hundred.
        return None
    if rule in (
        "ad-label",
        "share-social",
        "reading-time",
        "trust-badge",
        "comments",
    ):
        return rule, True
    if rule == "counter":
        # "12 comments" is a page's; a lone number ("2.36.12", "#909436)") is anyone's.
        return ("counter", True) if _LETTER.search(text) else None
    if rule == "cookie-copyright":
        return ("cookie-notice", True) if _COOKIE_NOTICE.search(text) else None
    if rule == "related-links":
        return "related-links", False
    if rule == "newsletter":
        return "newsletter", False
    if rule == "byline-dateline":
        return ("byline", False) if _BYLINE.match(text) else None
    if rule == "navigation":
        return None if _URL_ONLY.match(text) else ("navigation", False)
    if rule == "caption-credit":
        return "caption-credit", False
    return None


def link_like(text: str, f: Features, max_words: int) -> bool:
    """A menu item: a few words in title case (or one or two words, or a script
    without case), no sentence end, no list marker. Lines of verse and list items
    in lower case are not menu items."""
    return (
        f.tokens > 0
        and f.words <= max_words
        and (f.tokens <= 2 or f.title_case or f.lower_ratio is None)
        and not f.end_punct
        and not text.endswith((",", ";"))
        and _LIST_MARKER.match(text) is None
    )


# -- the main algorithm -----------------------------------------------------------------------------


def is_related_head(text: str) -> bool:
    """A header that opens a list of related links ("Related articles", "Most read")."""
    return _RELATED_HEAD.match(text) is not None


def opens_comment_section(text: str, f: Features) -> bool:
    """A comment-section header ("34 responses to ...", "Leave a Reply")."""
    return f.words <= 14 and _COMMENT_SECTION.match(text) is not None


def is_comment_signature(text: str, f: Features) -> bool:
    """A commenter's signature line ("alice says:", "Bob on May 1, 2019 at 5 pm said:",
    "by Darkness404 (1287218) writes: on Monday July 23, @08:25PM (#40743959)")."""
    return f.words <= 16 and not f.end_punct and _COMMENT_SIGNATURE.match(text) is not None


_UPDATE = re.compile(
    r"^[\W_]*(?:updated|last\s+updated|modified|aktualisiert|atualizado|actualizado|aggiornato|"
    r"mis\s+à\s+jour|обновлено|diperbarui|수정|更新)\b",
    _CASELESS,
)
_ARTICLE_NOTE = re.compile(
    r"^[\W_]*(?:corrections?|clarifications?|editor'?s?[’']?\s+notes?|note\s+to\s+readers|updates?|"
    r"an\s+earlier\s+version\s+of\s+this|this\s+(?:article|story|post)\s+(?:has\s+been|was)\s+"
    r"(?:updated|corrected|amended)|korrektur|berichtigung|correção|corrección|correzione|rectificatif|"
    r"поправка)\b",
    _CASELESS,
)


_MONTH_DAY = re.compile(
    rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:{_MONTHS})(?!\w)",
    _CASELESS,
)
"""A day of a month without the year ("Thursday, November 1 at 2:57 pm")."""
_CLOCK_START = re.compile(r"^[\W_]*\d{1,2}:\d{2}\b")
"""A clock time opening a line: a news ticker's or a live blog's entry ("14:44 ...")."""
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*[ap]\.?m\b", _CASELESS)


def is_stamp(text: str, f: Features) -> bool:
    """A short line stating a date with the time of day, with a few words around it
    (a name, "on", "at", "Reply"): how comments and news tickers are stamped.
    Embedded posts are signed with a date alone ("— Dele (@dele_official) November
    19, 2019"), and they belong to the article."""
    if f.words > 16 or len(text) > 160 or _TIME.search(text) is None:
        return False
    if _DATE.search(text) is None:
        return False
    if (
        _CLOCK_START.match(text) is None
        and _DATE.search(untimed := _TIME.sub(" ", text)) is None
        and _MONTH_DAY.search(untimed) is None
    ):
        # A time inside a line with no date is a race's split or a schedule ("5km -
        # 15:23, projecting 2:09:49", dragnet's R555 live blog), not a stamp; a
        # ticker's time opens its line ("14:44 Accusations de viols ...").
        return False
    residue = _DATE.sub(" ", text)
    return len(_WORD.findall(residue)) <= 8


_SHAPE_TOKEN = re.compile(r"\S+")
_NAME_THEN_NUMBER = re.compile(r"^[^\W\d_][^\W\d_.'-]*\b.*\s\S*\d\S*$")


def stamp_shape(text: str) -> str | None:
    """The shape of the end of a line that may be a comment template's header: a
    name first, then two numbers or more in its last three tokens ("Jermaine 07 Nov
    12"); digits become 9, letters a, runs collapsed. None for
    any other line (numbered steps, list items, scores)."""
    if not _NAME_THEN_NUMBER.match(text):
        return None
    tail = _SHAPE_TOKEN.findall(text)[-3:]
    if sum(any(c.isdigit() for c in t) for t in tail) < 2:
        return None
    shaped = [re.sub(r"[^\W\d_]", "a", re.sub(r"\d", "9", t[0].upper() + t[1:])) for t in tail]
    return " ".join(re.sub(r"(.)\1+", r"\1", t) for t in shaped)


_SLIDE_COUNTER = re.compile(
    r"^(?:(?:image|photo|picture|slide|bild|foto|imagen|diapositiva)\s+)?"
    r"(\d{1,3})\s*(?:/|of|von|de|sur|di|из)\s*(\d{1,3})(?![\d/.,:])",
    _CASELESS,
)


def slide_counter(text: str) -> tuple[int, int] | None:
    """(k, n) for a line opening like a gallery's slide counter ("1/50 United goin
    down", "3of4A shopper looks at ...", "Photo 2 of 6"), with the slide's text after
    it or none; None when it does not (a date "10/12/2012", "24/7", a decimal). A
    fraction ("1/2 cup") opens so too: only the whole run 1..n, in order, makes a
    gallery (``cleaner._gallery``)."""
    m = _SLIDE_COUNTER.match(text)
    if m is None:
        return None
    k, n = int(m.group(1)), int(m.group(2))
    return (k, n) if 1 <= k <= n else None


def bare_slide_counter(text: str) -> bool:
    """Whether the line is a slide counter and nothing else ("1 of 6")."""
    m = _SLIDE_COUNTER.match(text)
    return m is not None and not text[m.end() :].strip()


_UNDERLINE = re.compile(r"^\s*([=\-~*#^_+.])\1{2,}\s*$")


def is_underline(text: str) -> bool:
    """A line of one repeated mark (``=====``, ``-----``) underlining a heading."""
    return _UNDERLINE.match(text) is not None


_CODE_END = re.compile(r"(?:[{};]|\)\s*;?|\]\s*,?|=>|->)\s*$")
_CODE_START = re.compile(
    r"^(?:[{}]|//|/\*|\*\s|#\s*include|>>>\s|\$\s|(?:var|let|const|def|function|return|import|from|if|else|for|while|class|public|private)\b)"
)
_CODE_CHARS = re.compile(r"[{}()\[\];=<>+*/\\|&^%$#@!~`'\".:,_-]")


_SQL_START = re.compile(
    r"^(?:SELECT|FROM|WHERE|WITH|JOIN|LEFT JOIN|INNER JOIN|GROUP BY|ORDER BY|INSERT INTO|"
    r"UPDATE|DELETE FROM|CREATE|ALTER|UNION|HAVING|LIMIT|VALUES|CASE|WHEN|END)\b"
)
_BOX_DRAWING = re.compile(r"[\u2500-\u257f]")
_CODE_OPEN = re.compile(r"[(,\[]\s*$")


def code_signal(text: str, f: Features) -> int:
    """How strongly one line looks like a line of a code block or of a query's output:
    2 for program code (:func:`is_code`), an upper-case SQL clause ("SELECT avg(n)")
    or a table drawn with box characters; 1 for a line left open (ending in "(" or
    ","); 0 otherwise. One line alone proves nothing: see ``units.code_blocks``."""
    if len(text) > _RULE_MAX_CHARS or not text:
        return 0
    if is_code(text, f) or _SQL_START.match(text) or _BOX_DRAWING.search(text):
        return 2
    return 1 if _CODE_OPEN.search(text) else 0


def is_code(text: str, f: Features) -> bool:
    """A line of program code (a code block in a technical article): it ends with a
    brace, a semicolon or a closing bracket, or opens with a keyword or comment
    mark, and a fifth of its characters or more are symbols. Menus, captions and
    footers never look like this."""
    if len(text) > _RULE_MAX_CHARS or f.tokens == 0:
        return False
    if not (_CODE_END.search(text) or _CODE_START.match(text)):
        return False
    return len(_CODE_CHARS.findall(text)) >= 0.2 * len(text.replace(" ", ""))


def is_update_line(text: str) -> bool:
    """A dateline that gives an update time rather than the publication time."""
    return _UPDATE.match(text) is not None


def is_article_note(text: str) -> bool:
    """A correction, clarification, editor's note or update appended to an article."""
    return _ARTICLE_NOTE.match(text) is not None and len(text) <= _RULE_MAX_CHARS


_SIGNED_DATE = re.compile(r"^[^\W\d_][\w.' -]{0,40}?,?\s+(?:on|am|le|el|il|em|op)\s+", re.I)
_TWEET_SIGNATURE = re.compile(
    rf"^[—–-]?\s*\S.{{0,60}}\(@\w{{1,15}}\)\s+(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}}$",
    _CASELESS,
)
"""How an embedded tweet ends in a scrape ("— Destiny Noel. (@__LoveNoelxo) October 30,
2012"): a quote inside the article, whose date starts no new item."""

_POST_FOOTER = re.compile(
    r"^(?:this\s+(?:entry|post)\s+was\s+posted\s+(?:on|in|by)\b"
    r"|originally\s+(?:published|posted)\s+(?:on|at|in)\b)",
    _CASELESS,
)
"""A blog's post footer ("This entry was posted on Saturday, August 25th, 2012 ... and
is filed under ...", "Originally published on www.cio.com."): in 24 dragnet pages,
3 times in the gold."""
_POST_END = re.compile(
    r"^[\W_]*(?:tags?|tagged(?:\s+with)?|filed\s+(?:under|in)|categor(?:y|ies)|posted\s+in)\s*:.*"
    r"|^this\s+(?:entry|post)\s+was\s+posted\s+(?:on|in|by)\b",
    _CASELESS,
)
"""A post's tag or category line ("Filed under: Audi Featured Articles", "Tags: Audi,
london") or its footer ("This entry was posted in ..."): a blog or news site prints
it under the post, where the post ends. ("Originally published on ..." may head the
original under an update: it ends nothing.)"""


def ends_post(text: str) -> bool:
    """Whether a line closes a post (see ``_POST_END``)."""
    return _POST_END.match(text) is not None


_POSTED = re.compile(r"^(?:by|posted|published|submitted|written|updated|last)\b", re.I)


def is_tweet_signature(text: str) -> bool:
    """Whether a line is the signature line of an embedded tweet."""
    return len(text) <= 160 and _TWEET_SIGNATURE.match(text) is not None


def signed_date(text: str) -> bool:
    """A date signed with a name before it ("Luke, on November 7th, 2012 // Twitter"):
    how comment templates sign each comment. An article's own dateline starts with
    the date or with "By"."""
    if len(text) > 160 or _POSTED.match(text):
        return False
    m = _SIGNED_DATE.match(text)
    return m is not None and _DATE.match(text, m.end()) is not None


def states_date(text: str) -> bool:
    """Whether a line states a date or a time of day."""
    return _DATE.search(text) is not None


def dateline_like(text: str) -> bool:
    """A line that is mostly a date or time with a few words ("November 3, 2012 By
    George Ambler Leave a Comment", "24 July 2012 Last updated at 05:40 ET Help")."""
    if len(text) > 160 or _DATE.search(text) is None:
        return False
    return len(_WORD.findall(_DATE.sub(" ", text))) <= 8


def signs_comment(text: str, f: Features) -> bool:
    """A commenter's signature with a number (a user id, a date) or a "says": articles
    quote with "Makali wrote:" too, comment threads sign "by vlm (69642) writes:"."""
    return is_comment_signature(text, f) and (
        any(ch.isdigit() for ch in text) or " says" in text.lower()
    )


def patterns() -> dict[str, str]:
    """Every compiled pattern of this module by name, for the rules digest."""
    return {
        name: value.pattern
        for name, value in sorted(globals().items())
        if isinstance(value, re.Pattern)
    }
