"""Synthetic resident ID cards (居民身份证) for the OCR cross-check, made with Pillow.

Every card is drawn from a seed: a random name of 2-4 characters, a valid 18-character
citizen ID number (GB 11643 check character), a birth date, an address, and on the back
the issuing office and the validity period (有效期限, ``YYYY.MM.DD-YYYY.MM.DD`` or 长期).
``photo_jpeg`` photographs a side the way a candidate's phone does (the test factory's
perspective, uneven light, softness and sensor noise) and encodes it under the upload
limit; ``illegible_jpeg`` makes a photo that intake's legibility check refuses
(defocused or shaken). Nothing is committed: the corpus is these functions and a seed.

The font is Debian's WenQuanYi Micro Hei (``fonts-wqy-microhei``, installed by
``dev/servers.py``), for both the Chinese and the digits.
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from common.idnumber import check_character
from tests.unit import imagefactory

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
UPLOAD_LIMIT = 200 * 1024
CARD = (1200, 757)  # 85.6 x 54 mm at ~14 px/mm; the photo keeps the size (short side > 600)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国晓文斌宇浩凯健俊帆帅旭宁欣悦琳雪梅林峰波海亮晨阳佳颖思雨嘉怡子轩梓涵一鸣志远天佑宏博雅婷"
DOUBLE_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫")
REGIONS = ("320402", "320102", "110105", "440305", "510107", "330106", "420111", "370202")
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平街", "长江路", "青年路", "文化路")
CITIES = {"32": "江苏省常州市", "11": "北京市", "44": "广东省深圳市", "51": "四川省成都市",
          "33": "浙江省杭州市", "42": "湖北省武汉市", "37": "山东省青岛市"}
CARD_TINT = (236, 240, 238)
INK = (20, 20, 24)
LABEL = (40, 90, 150)


@dataclass(frozen=True)
class Card:
    seed: int
    name: str
    sex: str
    birth: date
    id_number: str
    address: str
    office: str
    valid_from: date
    valid_until: date | None  # None: 长期 (no end)

    @property
    def validity_text(self):
        end = "长期" if self.valid_until is None else self.valid_until.strftime("%Y.%m.%d")
        return f"{self.valid_from.strftime('%Y.%m.%d')}-{end}"


def id_number(rnd, region, birth):
    body = f"{region}{birth.strftime('%Y%m%d')}{rnd.randint(0, 999):03d}"
    return body + check_character(body)


def random_name(rnd):
    length = rnd.choice((2, 2, 3, 3, 3, 4))
    if length == 4 and rnd.random() < 0.7:
        surname = rnd.choice(DOUBLE_SURNAMES)
        return surname + "".join(rnd.choice(GIVEN) for _ in range(2))
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(length - 1))


def card(seed, *, expired=False):
    """The facts of one card (deterministic for the seed)."""
    rnd = random.Random(seed)
    birth = date(1970, 1, 1) + timedelta(days=rnd.randint(0, 365 * 34))
    region = rnd.choice(REGIONS)
    sequence_number = id_number(rnd, region, birth)
    sex = "男" if int(sequence_number[16]) % 2 else "女"
    issued = date(2012, 1, 1) + timedelta(days=rnd.randint(0, 365 * 12))
    if expired:
        issued = date(2005, 1, 1) + timedelta(days=rnd.randint(0, 365 * 5))
    years = rnd.choice((10, 20, 20, None)) if not expired else 10
    until = None if years is None else issued.replace(year=issued.year + years)
    city = CITIES.get(region[:2], "江苏省常州市")
    address = f"{city}{rnd.choice(STREETS)}{rnd.randint(1, 300)}号{rnd.randint(1, 30)}幢{rnd.randint(101, 2606)}室"
    office = f"{city[3:] if len(city) > 3 else city}公安局{rnd.choice(('天宁', '钟楼', '新北', '武进'))}分局"
    return Card(seed, random_name(rnd), sex, birth, sequence_number, address, office, issued, until)


def _font(size):
    return ImageFont.truetype(FONT_PATH, size)


def _blank(rnd):
    page = Image.new("RGB", CARD, CARD_TINT)
    draw = ImageDraw.Draw(page)
    for _ in range(18):  # the faint guilloche of the real card, so the background is not flat
        x, y = rnd.randint(0, CARD[0]), rnd.randint(0, CARD[1])
        r = rnd.randint(80, 400)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(214, 224, 230), width=2)
    return page, draw


def front_image(c: Card):
    """The portrait side: name, sex, ethnicity, birth, address, ID number, photo box."""
    rnd = random.Random(c.seed * 7 + 1)
    page, draw = _blank(rnd)
    label, value, big = _font(34), _font(42), _font(46)
    left, value_x = 70, 190
    draw.text((left, 70), "姓  名", font=label, fill=LABEL)
    draw.text((value_x, 64), c.name, font=big, fill=INK)
    draw.text((left, 160), "性  别", font=label, fill=LABEL)
    draw.text((value_x, 156), c.sex, font=value, fill=INK)
    draw.text((value_x + 150, 160), "民  族", font=label, fill=LABEL)
    draw.text((value_x + 270, 156), "汉", font=value, fill=INK)
    draw.text((left, 250), "出  生", font=label, fill=LABEL)
    draw.text((value_x, 246), f"{c.birth.year}  年  {c.birth.month}  月  {c.birth.day}  日",
              font=value, fill=INK)
    draw.text((left, 340), "住  址", font=label, fill=LABEL)
    draw.text((value_x, 336), c.address[:13], font=value, fill=INK)
    draw.text((value_x, 396), c.address[13:], font=value, fill=INK)
    draw.text((left, 600), "公民身份号码", font=label, fill=LABEL)
    draw.text((330, 594), c.id_number, font=_font(50), fill=INK)
    draw.rectangle((800, 90, 1120, 500), fill=(205, 210, 215))
    draw.ellipse((880, 150, 1040, 330), fill=(150, 130, 120))
    draw.pieslice((830, 320, 1090, 620), 180, 360, fill=(60, 70, 90))
    return page


def back_image(c: Card):
    """The emblem side: 中华人民共和国 居民身份证, issuing office and validity."""
    rnd = random.Random(c.seed * 7 + 2)
    page, draw = _blank(rnd)
    draw.ellipse((80, 60, 280, 260), outline=(200, 30, 40), width=14)
    draw.regular_polygon((180, 160, 50), 5, fill=(220, 170, 40))
    draw.text((380, 90), "中华人民共和国", font=_font(72), fill=INK)
    draw.text((380, 220), "居民身份证", font=_font(92), fill=INK)
    draw.text((190, 520), "签发机关", font=_font(34), fill=LABEL)
    draw.text((370, 514), c.office, font=_font(42), fill=INK)
    draw.text((190, 610), "有效期限", font=_font(34), fill=LABEL)
    draw.text((370, 604), c.validity_text, font=_font(42), fill=INK)
    return page


def encode_under(image, limit=UPLOAD_LIMIT):
    """The best-quality baseline JPEG under the upload limit."""
    low, high, best = 30, 92, None
    while low <= high:
        mid = (low + high) // 2
        data = imagefactory.jpeg_bytes(image, quality=mid)
        if len(data) <= limit:
            best, low = data, mid + 1
        else:
            high = mid - 1
    return best


def photographed(image, seed):
    """A phone photo of the card: perspective, uneven light, mild blur, noise."""
    rnd = random.Random(seed)
    return imagefactory.phone_photo(image, seed=seed, blur=rnd.uniform(0.6, 1.4),
                                    noise=rnd.uniform(4, 9), tilt=rnd.uniform(0.0, 0.05),
                                    shade=rnd.uniform(0.1, 0.3))


def photo_jpeg(c: Card, side="front"):
    image = front_image(c) if side == "front" else back_image(c)
    return encode_under(photographed(image, c.seed))


def illegible_jpeg(c: Card, side="front"):
    """A photo that intake refuses as image_unclear: defocused or shaken."""
    rnd = random.Random(c.seed)
    image = photographed(front_image(c) if side == "front" else back_image(c), c.seed)
    if rnd.random() < 0.5:
        image = imagefactory.defocused(image, rnd.uniform(4, 6))
    else:
        image = image.filter(ImageFilter.BoxBlur((rnd.uniform(9, 12), 0)))
    return encode_under(image)


def glare_jpeg(c: Card):
    """A sharp photo with the lamp's reflection on the laminate over the name and the
    number: intake accepts it, but there is nothing to read there."""
    page = front_image(c)
    glare = Image.new("L", CARD, 0)
    draw = ImageDraw.Draw(glare)
    draw.rounded_rectangle((150, 40, 520, 130), 30, fill=255)
    draw.rounded_rectangle((300, 570, 1000, 680), 30, fill=255)
    page = Image.composite(Image.new("RGB", CARD, (252, 252, 250)), page,
                           glare.filter(ImageFilter.GaussianBlur(6)))
    return encode_under(photographed(page, c.seed))
