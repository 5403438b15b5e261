"""The Bắc Kạn demo catalogue: places, OCOP groups, producers, products, certificates, shops, stock.

Real facts (see /work/shared/DOMAIN.md): the province and its districts, the OCOP groups of
148/QĐ-TTg, the producers and products named there with their stars, the 5★ decision of Miến dong
Tài Hoan (2890/QĐ-BNN-VPĐP, 30/6/2021), the 4★ batch of 2023 and the ten OCOP shops kept under
Decision 736/QĐ-UBND of 26/5/2021. Everything else is DEMO DATA and marked so below: addresses,
phones, member counts, stories' details, prices, barcodes, coordinates, decision numbers and dates
(other than the two above), scores, and every product not in DOMAIN.md.

Certificate dates are computed from today (``today_vn()``) so the demo keeps its mix in any year:
most valid, three expiring within 60 days, one expired, one revoked.

``seed_demo()`` is idempotent: rows are looked up by slug or code and only missing ones are made;
certificates are written only for products that have none; opening stock is received only where a
shop × product has no ledger row yet. Pictures are drawn only when their file is missing.
"""
from __future__ import annotations

import calendar
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from shop.catalog.models import VALIDITY_MONTHS, Certificate, Product, ProductGroup
from shop.extensions import db
from shop.inventory.models import StockMovement
from shop.inventory.services import receive
from shop.places.models import Locality
from shop.producers.models import Producer
from shop.seed import images
from shop.shops.models import Shop
from shop.text import slugify
from shop.timeutil import today_vn

SEED = 2026
OPENING_NOTE = "Tồn kho đầu kỳ (demo)"

# Reform dates that change who signs a certificate.
MINISTRY_MERGED = date(2025, 3, 1)     # Bộ NN&PTNT + Bộ TN&MT → Bộ Nông nghiệp và Môi trường
PROVINCE_MERGED = date(2025, 7, 1)     # Bắc Kạn merged into Thái Nguyên; districts abolished
DECISION_148 = date(2023, 2, 24)
LEGAL_148 = "Quyết định 148/QĐ-TTg ngày 24/02/2023"
LEGAL_1048 = "Quyết định 1048/QĐ-TTg ngày 21/8/2019"

# ---- places -----------------------------------------------------------------------------------
# (name, kind, parent slug, successor slug). Slugs come from shop.text.slugify; a clash gets the
# parent's slug appended. Only the province's successor is recorded: commune mergers of 7/2025 are
# not modelled here.
LOCALITIES = [
    ("Thái Nguyên", "province", None, None),
    ("Bắc Kạn", "province", None, "thai-nguyen"),
    ("Thành phố Bắc Kạn", "city", "bac-kan", None),
    ("Ba Bể", "district", "bac-kan", None),
    ("Bạch Thông", "district", "bac-kan", None),
    ("Chợ Đồn", "district", "bac-kan", None),
    ("Chợ Mới", "district", "bac-kan", None),
    ("Na Rì", "district", "bac-kan", None),
    ("Ngân Sơn", "district", "bac-kan", None),
    ("Pác Nặm", "district", "bac-kan", None),
    # wards of Bắc Kạn city (shops)
    ("Đức Xuân", "ward", "thanh-pho-bac-kan", None),
    ("Sông Cầu", "ward", "thanh-pho-bac-kan", None),
    ("Huyền Tụng", "ward", "thanh-pho-bac-kan", None),
    # district towns (shops, producers)
    ("Chợ Rã", "town", "ba-be", None),
    ("Phủ Thông", "town", "bach-thong", None),
    ("Bằng Lũng", "town", "cho-don", None),
    ("Đồng Tâm", "town", "cho-moi", None),
    ("Yến Lạc", "town", "na-ri", None),
    ("Nà Phặc", "town", "ngan-son", None),
    # communes of the producers
    ("Côn Minh", "commune", "na-ri", None),
    ("Văn Lang", "commune", "na-ri", None),
    ("Bằng Phúc", "commune", "cho-don", None),
    ("Phương Viên", "commune", "cho-don", None),
    ("Nông Hạ", "commune", "cho-moi", None),
    ("Thanh Mai", "commune", "cho-moi", None),
    ("Yên Cư", "commune", "cho-moi", None),
    ("Tân Sơn", "commune", "cho-moi", None),
    ("Yến Dương", "commune", "ba-be", None),
    ("Nam Mẫu", "commune", "ba-be", None),
    ("Quân Hà", "commune", "bach-thong", None),
    ("Bộc Bố", "commune", "pac-nam", None),
]

# ---- OCOP product groups (148/QĐ-TTg) ---------------------------------------------------------
# (code, name, name_en). Subgroup names follow DOMAIN.md; the exact wording of the III, V and VI
# subgroups in the decision's annex is not certain (?), the codes are ours.
PRODUCT_GROUPS = [
    ("I", "Thực phẩm", "Food"),
    ("I.1", "Thực phẩm tươi sống", "Fresh produce"),
    ("I.2", "Thực phẩm thô, sơ chế", "Raw and pre-processed food"),
    ("I.3", "Thực phẩm chế biến", "Processed food"),
    ("I.4", "Gia vị", "Condiments"),
    ("I.5", "Chè và trà thảo mộc", "Tea and herbal teas"),
    ("I.6", "Cà phê, ca cao", "Coffee and cocoa"),
    ("II", "Đồ uống", "Drinks"),
    ("II.1", "Đồ uống có cồn", "Alcoholic drinks"),
    ("II.2", "Đồ uống không cồn", "Non-alcoholic drinks"),
    ("III", "Dược liệu và sản phẩm từ dược liệu", "Herbal and medicinal products"),
    ("III.1", "Thực phẩm chức năng, thuốc dược liệu", "Supplements and herbal medicines"),
    ("III.2", "Mỹ phẩm, tinh dầu từ dược liệu", "Herbal cosmetics and essential oils"),
    ("III.3", "Dược liệu và trà dược liệu", "Medicinal herbs and herbal infusions"),
    ("IV", "Thủ công mỹ nghệ", "Handicrafts"),
    ("IV.1", "Đồ gia dụng, trang trí", "Household and decorative crafts"),
    ("IV.2", "Dệt may, thổ cẩm", "Textiles and garments"),
    ("V", "Sinh vật cảnh", "Ornamental plants and animals"),
    ("V.1", "Hoa, cây cảnh", "Flowers and ornamental plants"),
    ("V.2", "Động vật cảnh", "Ornamental animals"),
    ("VI", "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
     "Community and eco tourism"),
    ("VI.1", "Du lịch cộng đồng, homestay", "Community tourism and homestays"),
    ("VI.2", "Điểm du lịch sinh thái", "Eco-tourism sites"),
]

# ---- producers --------------------------------------------------------------------------------
# Names, kinds and places are from DOMAIN.md unless marked. DEMO DATA: every address, phone number,
# member count and founding detail in the stories; "scene" only picks the cover picture.
PRODUCERS = [
    dict(
        slug="htx-tai-hoan", name="Hợp tác xã Tài Hoan", kind="cooperative", locality="con-minh",
        address="Thôn Nà Làng, xã Côn Minh, huyện Na Rì, tỉnh Bắc Kạn",  # demo
        phone="0912486301", scene="terraces",  # demo
        story=(
            "Hợp tác xã Tài Hoan ở xã Côn Minh, huyện Na Rì – vùng đất của cây dong riềng. Cứ đến "
            "tháng Mười, khi củ dong trên những triền đồi đất đỏ đã chắc bột, cả thôn lại vào vụ làm "
            "miến: tiếng máy nghiền chạy từ sáng sớm, những phên tre phơi miến trải dài bên đường.\n\n"
            "Hợp tác xã có 12 thành viên và thu mua củ dong của hơn 100 hộ trong xã. Tinh bột được lọc "
            "bằng nước giếng, tráng thành bánh, cắt sợi rồi phơi dưới nắng hanh mùa đông – không chất "
            "tẩy trắng, không phụ gia. Sợi miến vì thế có màu nâu trong tự nhiên, nấu lâu không nát.\n\n"
            "Năm 2021, Miến dong Tài Hoan trở thành sản phẩm OCOP 5 sao đầu tiên của tỉnh Bắc Kạn – "
            "niềm tự hào của những người trồng dong Côn Minh."
        ),
        story_en=(
            "Tài Hoan Cooperative works in Côn Minh commune, Na Rì district — canna country. Every "
            "October, once the tubers on the red hillsides are full of starch, the village turns to "
            "noodle-making: the crushers start at dawn and bamboo drying racks line the road.\n\n"
            "The cooperative has 12 members and buys tubers from more than 100 households in the "
            "commune. The starch is settled in well water, steamed into sheets, cut into strands and "
            "dried in the crisp winter sun — no bleach, no additives. That is why the noodles keep "
            "their natural translucent brown and hold together in the pot.\n\n"
            "In 2021 Tài Hoan arrowroot noodles became Bắc Kạn's first five-star OCOP product, a point "
            "of pride for every canna grower in Côn Minh."
        ),
    ),
    dict(
        slug="htx-yen-duong", name="Hợp tác xã Yến Dương", kind="cooperative", locality="yen-duong",
        address="Thôn Khuổi Luông, xã Yến Dương, huyện Ba Bể, tỉnh Bắc Kạn",  # demo
        phone="0983217504", scene="terraces",  # demo
        story=(
            "Xã Yến Dương nằm trong thung lũng dưới chân núi, cách hồ Ba Bể chừng hai mươi cây số. "
            "Nơi đây người Tày giữ được giống lúa Nếp Tài cổ truyền, mỗi năm chỉ cấy một vụ trên những "
            "thửa ruộng lấy nước từ khe suối.\n\n"
            "Hợp tác xã Yến Dương có 9 thành viên, liên kết với gần 60 hộ trồng nếp, cùng nhau giữ "
            "giống, cấy theo quy trình chung và thu mua toàn bộ thóc. Lúa được phơi trên sân gạch, "
            "xay xát ngay tại hợp tác xã để hạt gạo giữ được mùi thơm.\n\n"
            "Năm 2023, Gạo Nếp Tài được UBND tỉnh Bắc Kạn công nhận sản phẩm OCOP 4 sao."
        ),
        story_en=(
            "Yến Dương commune lies in a valley at the foot of the mountains, about twenty kilometres "
            "from Ba Bể lake. Its Tày farmers have kept Nếp Tài, an heirloom sticky rice grown just once "
            "a year in fields watered by mountain streams.\n\n"
            "The cooperative has 9 members and works with nearly 60 rice-growing households: together "
            "they save the seed, farm to one shared method, and the cooperative buys the whole harvest. "
            "The paddy is sun-dried on brick yards and milled on site so the rice keeps its fragrance.\n\n"
            "In 2023 the Bắc Kạn Provincial People's Committee awarded Nếp Tài rice four OCOP stars."
        ),
    ),
    dict(
        slug="duoc-lieu-bac-ha", name="Công ty Cổ phần Công nghệ Dược liệu Bắc Hà", kind="company",
        locality="thanh-pho-bac-kan",
        address="Tổ 8, phường Huyền Tụng, thành phố Bắc Kạn, tỉnh Bắc Kạn",  # demo
        phone="02093868215", scene="forest",  # demo
        story=(
            "Công ty Cổ phần Công nghệ Dược liệu Bắc Hà được thành lập bởi những kỹ sư trẻ muốn đưa "
            "cây nghệ vàng của Bắc Kạn đi xa hơn những gánh hàng ngoài chợ. Nguyên liệu được thu mua "
            "theo hợp đồng từ khoảng 200 hộ trồng nghệ trên đất đồi trong tỉnh.\n\n"
            "Nhà xưởng của công ty chiết xuất curcumin và bào chế ở dạng nano để cơ thể dễ hấp thu; mỗi "
            "lô hàng đều được kiểm nghiệm trước khi xuất xưởng. Năm 2023, ba sản phẩm Vicumax của công "
            "ty cùng được công nhận OCOP 4 sao."
        ),
        story_en=(
            "Bắc Hà Herbal Technology JSC was founded by young engineers who wanted Bắc Kạn's turmeric "
            "to travel further than the market stalls. Its raw material comes under contract from "
            "about 200 households growing turmeric on the province's hillsides.\n\n"
            "The company's workshop extracts curcumin and prepares it as nano-particles so the body "
            "absorbs it more easily; every batch is tested before it leaves. In 2023 all three of its "
            "Vicumax products were awarded four OCOP stars."
        ),
    ),
    dict(
        slug="nong-san-bac-kan", name="Công ty Cổ phần Nông sản Bắc Kạn", kind="company",
        locality="thanh-pho-bac-kan",  # (?) exact place not known
        address="Số 12 đường Thanh Niên, phường Đức Xuân, thành phố Bắc Kạn, tỉnh Bắc Kạn",  # demo
        phone="02093875420", scene="forest",  # demo
        story=(
            "Công ty Cổ phần Nông sản Bắc Kạn chế biến các nông sản quen thuộc của núi rừng – trước "
            "hết là nghệ vàng. Nghệ được trồng trên đất đồi, thu hoạch khi củ đủ 10–12 tháng tuổi, "
            "rửa, xay và lọc nhiều lần để lấy tinh bột nghệ.\n\n"
            "Công ty có khoảng 25 công nhân, phần lớn là phụ nữ người Tày và người Dao ở các xã lân "
            "cận. Tinh nghệ Bắc Kạn của công ty đạt OCOP 4 sao; viên tinh nghệ mật ong đạt 3 sao."
        ),
        story_en=(
            "Bắc Kạn Agricultural Products JSC processes the familiar crops of the hills — turmeric "
            "above all. The roots grow on hillside plots and are lifted at 10–12 months, then washed, "
            "milled and settled again and again to leave pure turmeric starch.\n\n"
            "The company employs about 25 people, most of them Tày and Dao women from nearby communes. "
            "Its Bắc Kạn turmeric starch holds four OCOP stars, and its turmeric-and-honey pills three."
        ),
    ),
    dict(
        slug="ha-diep", name="Công ty TNHH Hà Diệp", kind="company",
        locality="thanh-pho-bac-kan",  # (?) exact place not known
        address="Tổ 3, phường Sông Cầu, thành phố Bắc Kạn, tỉnh Bắc Kạn",  # demo
        phone="0916352748", scene="tea",  # demo
        story=(
            "Công ty TNHH Hà Diệp là một doanh nghiệp gia đình làm trà từ cây cỏ bản địa của Bắc Kạn. "
            "Trà hoa vàng được hái từ những vườn kim hoa trà dưới tán rừng; nụ vối được ủ và sao theo "
            "cách người Tày vẫn làm cho nhà mình uống.\n\n"
            "Hai vợ chồng chủ doanh nghiệp cùng 8 lao động tự tay làm từ khâu sơ chế, sấy lạnh đến "
            "đóng hộp. Cả hai sản phẩm Trà hoa vàng Bắc Kạn và Trà nụ vối đều đạt OCOP 4 sao."
        ),
        story_en=(
            "Hà Diệp Co., Ltd is a family business making teas from Bắc Kạn's native plants. Golden "
            "camellia flowers are picked in gardens under the forest canopy; water-myrtle buds are "
            "fermented and roasted the way Tày households have always made them for their own table.\n\n"
            "The couple who run it and their 8 workers do everything by hand, from sorting and cold "
            "drying to packing. Both Bắc Kạn golden camellia tea and water-myrtle bud tea hold four "
            "OCOP stars."
        ),
    ),
    dict(
        slug="htx-thanh-tam", name="Hợp tác xã Thanh Tâm", kind="cooperative", locality="bang-phuc",
        address="Thôn Nà Pài, xã Bằng Phúc, huyện Chợ Đồn, tỉnh Bắc Kạn",  # demo
        phone="0975128463", scene="forest",  # demo
        story=(
            "Bằng Phúc là xã vùng cao của huyện Chợ Đồn, nơi mỗi gia đình người Tày đều có bí quyết "
            "làm men lá riêng. Hợp tác xã Thanh Tâm ra đời để giữ bí quyết ấy và đưa rượu men lá của "
            "bản ra thị trường với nhãn mác, hồ sơ chất lượng đầy đủ.\n\n"
            "Hợp tác xã có 7 thành viên. Men được làm từ hơn mười loại lá rừng giã nhỏ trộn bột gạo, "
            "ủ thành bánh; rượu nấu từ nếp nương, chưng cất bằng nồi đồng và lọc nhiều lần cho êm. "
            "Rượu men lá Thanh Tâm được nâng hạng từ 3 sao lên 4 sao OCOP."
        ),
        story_en=(
            "Bằng Phúc is a highland commune of Chợ Đồn district where every Tày family has its own "
            "recipe for leaf yeast. Thanh Tâm Cooperative was set up to keep that knowledge alive and "
            "to bring the village's spirit to market with proper labels and quality records.\n\n"
            "The cooperative has 7 members. The yeast is made from more than ten forest leaves pounded "
            "with rice flour and shaped into cakes; the spirit is distilled from upland sticky rice in "
            "copper stills and filtered several times for smoothness. Thanh Tâm leaf-yeast spirit was "
            "upgraded from three to four OCOP stars."
        ),
    ),
    dict(
        slug="htx-ruou-men-la-bang-phuc", name="Hợp tác xã Rượu men lá Bằng Phúc", kind="cooperative",
        locality="bang-phuc",
        address="Thôn Nà Bản, xã Bằng Phúc, huyện Chợ Đồn, tỉnh Bắc Kạn",  # demo
        phone="0868241937", scene="forest",  # demo
        story=(
            "Rượu men lá đã có mặt trong mọi dịp lễ, Tết của người Tày Bằng Phúc từ bao đời. Năm 2017, "
            "15 hộ nấu rượu lâu năm trong xã cùng góp vốn lập hợp tác xã để có chung một quy trình, "
            "một nhãn hiệu và một xưởng chưng cất đạt chuẩn vệ sinh.\n\n"
            "Nước nấu rượu lấy từ mạch nguồn trong núi; rượu được hạ thổ trong chum sành ít nhất ba "
            "tháng trước khi đóng chai. Rượu men lá Bằng Phúc đạt OCOP 4 sao."
        ),
        story_en=(
            "Leaf-yeast spirit has been part of every festival and Tết in Bằng Phúc for generations. In "
            "2017, 15 long-time distilling households pooled their savings to form a cooperative with "
            "one method, one brand and one distillery that meets food-hygiene standards.\n\n"
            "The water comes from a spring in the mountain, and the spirit rests in buried earthenware "
            "jars for at least three months before it is bottled. Bằng Phúc leaf-yeast spirit holds "
            "four OCOP stars."
        ),
    ),
    dict(
        slug="htx-hoan-thanh", name="Hợp tác xã Hoàn Thành", kind="cooperative", locality="phuong-vien",
        address="Thôn Nà Quang, xã Phương Viên, huyện Chợ Đồn, tỉnh Bắc Kạn",  # demo
        phone="0947603215", scene="terraces",  # demo
        story=(
            "Hợp tác xã Hoàn Thành ở xã Phương Viên, giữa những cánh đồng lúa Bao Thai đã gắn bó với "
            "người Chợ Đồn mấy chục năm. Hợp tác xã có 11 thành viên, liên kết sản xuất trên khoảng 30 "
            "héc-ta ruộng của bà con trong xã.\n\n"
            "Hợp tác xã cung ứng giống, hướng dẫn bón phân hữu cơ, thu mua thóc và xay xát ngay sau "
            "thu hoạch. Gạo được đóng túi hút chân không để giữ hạt trong và thơm."
        ),
        story_en=(
            "Hoàn Thành Cooperative is in Phương Viên commune, among the Bao Thai rice fields that have "
            "fed Chợ Đồn for decades. It has 11 members and farms about 30 hectares together with "
            "families in the commune.\n\n"
            "The cooperative supplies seed, advises on organic fertiliser, buys the paddy and mills it "
            "right after harvest. The rice is vacuum-packed so the grains stay clear and fragrant."
        ),
    ),
    dict(
        slug="htx-duoc-lieu-bao-chau", name="Hợp tác xã Dược liệu Bảo Châu", kind="cooperative",
        locality="van-lang",
        address="Thôn Khuổi Ỏn, xã Văn Lang, huyện Na Rì, tỉnh Bắc Kạn",  # demo
        phone="0338914562", scene="forest",  # demo
        story=(
            "Hợp tác xã Dược liệu Bảo Châu trồng cây thuốc trên đất xã Văn Lang, huyện Na Rì, theo "
            "hướng hữu cơ: cà gai leo, hương nhu, sả và những loại lá thuốc mà đồng bào Tày, Dao vẫn "
            "dùng trong bữa ăn và khi ốm đau.\n\n"
            "Hợp tác xã có 8 thành viên và khoảng 5 héc-ta vườn dược liệu. Cây được thu hái đúng mùa, "
            "sơ chế và sấy ngay trong ngày tại xưởng của hợp tác xã. Trà cà gai leo Bảo Châu đạt OCOP "
            "3 sao."
        ),
        story_en=(
            "Bảo Châu Herbal Cooperative grows medicinal plants organically in Văn Lang commune, Na Rì "
            "district: cà gai leo, holy basil, lemongrass and the leaves that Tày and Dao families have "
            "always used in their cooking and when someone falls ill.\n\n"
            "The cooperative has 8 members and about 5 hectares of herb gardens. Plants are harvested in "
            "season, then cleaned and dried the same day in the cooperative's own workshop. Its cà gai "
            "leo tea holds three OCOP stars."
        ),
    ),
    dict(
        slug="htx-nn-sach-tan-son", name="Hợp tác xã Nông nghiệp sạch Tân Sơn", kind="cooperative",
        locality="tan-son",
        address="Thôn Bản Đồn, xã Tân Sơn, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0398275146", scene="terraces",  # demo
        story=(
            "Ở xã Tân Sơn, những thửa ruộng bậc thang nhỏ men theo sườn đồi chỉ hợp với lúa nếp. Hợp "
            "tác xã Nông nghiệp sạch Tân Sơn gồm 10 thành viên đã cùng nhau cấy nếp không dùng thuốc "
            "diệt cỏ, làm cỏ bằng tay và bón phân chuồng ủ hoai.\n\n"
            "Sản lượng không nhiều, nhưng hạt nếp dẻo thơm là niềm tự hào của cả xã. Gạo nếp Tân Sơn "
            "đạt OCOP 3 sao."
        ),
        story_en=(
            "In Tân Sơn commune the small terraced fields that climb the hillsides suit only sticky "
            "rice. The 10 members of Tân Sơn Clean Farming Cooperative grow it without herbicides, weed "
            "by hand and feed the soil with composted manure.\n\n"
            "The harvest is small, but the soft, fragrant grains are the pride of the commune. Tân Sơn "
            "glutinous rice holds three OCOP stars."
        ),
    ),
    dict(
        slug="htx-20-10", name="Hợp tác xã 20/10", kind="cooperative", locality="nong-ha",
        address="Thôn Nà Chú, xã Nông Hạ, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0363148295", scene="terraces",  # demo
        story=(
            "Hợp tác xã 20/10 mang tên Ngày Phụ nữ Việt Nam vì do chị em phụ nữ xã Nông Hạ cùng nhau "
            "lập nên. Từ một lò bún nhỏ của gia đình chị Huyền Nga, nay hợp tác xã có 7 thành viên và "
            "một xưởng làm bún, phở khô.\n\n"
            "Gạo được ngâm, xay bột nước, ép sợi rồi phơi trên giàn tre – không hàn the, không chất bảo "
            "quản. Bún khô Huyền Nga đạt OCOP 3 sao."
        ),
        story_en=(
            "The 20/10 Cooperative is named after Vietnamese Women's Day, because the women of Nông Hạ "
            "commune founded it together. What began as Huyền Nga's family vermicelli kitchen now has "
            "7 members and a workshop for dried rice noodles.\n\n"
            "The rice is soaked, wet-milled, pressed into strands and dried on bamboo racks — no borax, "
            "no preservatives. Huyền Nga dried vermicelli holds three OCOP stars."
        ),
    ),
    dict(
        slug="htx-che-shan-tuyet-ban-chao", name="Hợp tác xã Chè Shan tuyết Bản Cháo", kind="cooperative",
        locality="yen-cu",
        address="Thôn Bản Cháo, xã Yên Cư, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0388562741", scene="tea",  # demo
        story=(
            "Trên núi Khau Bjooc phía trên thôn Bản Cháo còn những cây chè Shan tuyết cổ thụ, thân phủ "
            "rêu, búp non phủ lông tơ trắng như tuyết. Người Dao ở đây leo cây hái chè từ khi còn nhỏ.\n\n"
            "Hợp tác xã Chè Shan tuyết Bản Cháo có 12 thành viên, chăm sóc khoảng 1.000 cây chè cổ. Chè "
            "được hái một tôm hai lá, vò và sao tay trên chảo gang ngay trong đêm. Trà Shan tuyết Khau "
            "Bjooc đạt OCOP 3 sao."
        ),
        story_en=(
            "On Khau Bjooc mountain above Bản Cháo village stand old Shan tuyết tea trees, their trunks "
            "mossy and their young buds covered in snow-white down. The Dao families here have climbed "
            "them to pick tea since childhood.\n\n"
            "The cooperative has 12 members who look after about 1,000 ancient trees. One bud and two "
            "leaves are plucked, then rolled and pan-fired by hand in cast-iron woks the same night. "
            "Khau Bjooc Shan tuyết tea holds three OCOP stars."
        ),
    ),
    dict(
        slug="htx-thanh-dat", name="Hợp tác xã Thành Đạt", kind="cooperative", locality="nong-ha",
        address="Thôn Khe Thuổng, xã Nông Hạ, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0979415832", scene="forest",  # demo
        story=(
            "Hợp tác xã Thành Đạt nuôi ong nội ven những cánh rừng tự nhiên của xã Nông Hạ. Đàn ong "
            "hút mật hoa rừng theo mùa, nên mỗi mẻ mật lại có màu và hương hơi khác nhau.\n\n"
            "Hợp tác xã có 9 thành viên với khoảng 400 đàn ong. Mật chỉ được quay khi đã vít nắp, lọc "
            "qua vải và để lắng tự nhiên, không cô đặc bằng nhiệt. Mật ong rừng nguyên chất Thành Đạt "
            "đạt OCOP 3 sao."
        ),
        story_en=(
            "Thành Đạt Cooperative keeps native bees at the edge of the natural forest in Nông Hạ "
            "commune. The bees forage on wildflowers through the seasons, so every harvest has a "
            "slightly different colour and scent.\n\n"
            "The cooperative has 9 members and about 400 hives. Honey is extracted only from capped "
            "combs, strained through cloth and left to settle — never heat-thickened. Thành Đạt pure "
            "forest honey holds three OCOP stars."
        ),
    ),
    dict(
        slug="htx-tan-dan", name="Hợp tác xã Tân Dân", kind="cooperative", locality="thanh-pho-bac-kan",
        address="Tổ 1, phường Huyền Tụng, thành phố Bắc Kạn, tỉnh Bắc Kạn",  # demo
        phone="0914263587", scene="terraces",  # demo
        story=(
            "Hợp tác xã Tân Dân ở ven thành phố Bắc Kạn biến những buồng chuối tây chín vàng của bà con "
            "thành rượu và giấm. Ý tưởng đến từ anh Mạnh Minh, người đã thử nghiệm giấm chuối lên men "
            "trong bếp nhà mình suốt hai năm.\n\n"
            "Hợp tác xã có 6 thành viên. Giấm được lên men tự nhiên 3–4 tháng trong chum; rượu chuối "
            "ủ men lá rồi chưng cất. Rượu chuối men lá và Giấm chuối Mạnh Minh đều đạt OCOP 3 sao."
        ),
        story_en=(
            "On the edge of Bắc Kạn city, Tân Dân Cooperative turns its neighbours' ripe bananas into "
            "spirit and vinegar. The idea came from Mạnh Minh, who spent two years perfecting banana "
            "vinegar in his own kitchen.\n\n"
            "The cooperative has 6 members. The vinegar ferments naturally in jars for three to four "
            "months; the banana spirit is fermented with leaf yeast and distilled. Both hold three OCOP "
            "stars."
        ),
    ),
    dict(
        slug="tht-quan-ha", name="Tổ hợp tác Quân Hà", kind="cooperative_group", locality="quan-ha",
        address="Thôn Nà Hin, xã Quân Hà, huyện Bạch Thông, tỉnh Bắc Kạn",  # demo
        phone="0355837216", scene="tea",  # demo
        story=(
            "Vườn nhà nào ở Quân Hà cũng có vài gốc đu đủ, và hoa đu đủ đực trước kia thường bị bỏ đi. "
            "Năm hộ gia đình trong thôn đã lập tổ hợp tác để thu hái, sấy khô hoa đu đủ đực làm trà – "
            "một thức uống quen thuộc trong dân gian.\n\n"
            "Hoa được hái vào sáng sớm, nhặt sạch và sấy ở nhiệt độ thấp để giữ màu vàng nhạt. Trà hoa "
            "đu đủ đực Quân Hà đạt OCOP 3 sao."
        ),
        story_en=(
            "Every garden in Quân Hà has a few papaya trees, and their male flowers used to go to "
            "waste. Five village households formed a cooperative group to gather and dry them for tea, "
            "a drink long known in folk tradition.\n\n"
            "The flowers are picked early in the morning, sorted by hand and dried at low temperature "
            "to keep their pale yellow colour. Quân Hà male papaya flower tea holds three OCOP stars."
        ),
    ),
    dict(
        slug="cam-thanh-mai", name="Hộ kinh doanh Cam Thanh Mai", kind="household",  # demo name
        locality="thanh-mai",
        address="Thôn Khuổi Cuồng, xã Thanh Mai, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0962738154", scene="terraces",  # demo
        story=(
            "Gia đình anh chị chủ hộ trồng cam trên những quả đồi đất đỏ của xã Thanh Mai đã hơn mười "
            "năm, với khoảng 2 héc-ta và hơn 1.500 gốc cam.\n\n"
            "Vườn cam được bón phân hữu cơ, tỉa cành bằng tay và chỉ thu hái khi quả chín cây, từ tháng "
            "Mười một đến Tết. Cam ngọt Thanh Mai đạt OCOP 3 sao."
        ),
        story_en=(
            "This family has grown oranges on the red-earth hills of Thanh Mai commune for more than "
            "ten years — about 2 hectares and over 1,500 trees.\n\n"
            "The orchard is fed with organic fertiliser, pruned by hand and picked only when the fruit "
            "has ripened on the tree, from November until Tết. Thanh Mai sweet oranges hold three OCOP "
            "stars."
        ),
    ),
    dict(
        slug="banh-gio-pac-san", name="Hộ kinh doanh Bánh gio Pắc San", kind="household",
        locality="dong-tam",  # (?) commune not known: district town used
        address="Tổ 4, thị trấn Đồng Tâm, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0987162435", scene="forest",  # demo
        story=(
            "Bánh gio là món quà quê quen thuộc của người Tày Chợ Mới, nhất là dịp Tết Đoan Ngọ. Gia "
            "đình bà chủ hộ đã gói bánh gio bán ở chợ huyện hơn hai mươi năm.\n\n"
            "Nước tro được lọc từ tro của các loại cây rừng, gạo nếp ngâm qua đêm rồi gói trong lá dong "
            "và luộc chín trong nồi lớn. Bánh gio Pắc San đạt OCOP 3 sao."
        ),
        story_en=(
            "Bánh gio is a beloved country treat of the Tày people of Chợ Mới, especially at the "
            "Double Fifth festival. This family has wrapped and sold the cakes at the district market "
            "for more than twenty years.\n\n"
            "The lye water is filtered from the ash of forest plants; the rice soaks overnight, is "
            "wrapped in dong leaves and boiled in a big pot. Pắc San bánh gio holds three OCOP stars."
        ),
    ),
    dict(
        slug="com-lam-sang-le", name="Hộ kinh doanh Cơm lam Sáng Lê", kind="household",
        locality="dong-tam",  # (?) commune not known: district town used
        address="Tổ 7, thị trấn Đồng Tâm, huyện Chợ Mới, tỉnh Bắc Kạn",  # demo
        phone="0329651874", scene="forest",  # demo
        story=(
            "Bên bếp than hồng cạnh quốc lộ 3, gia đình chị Sáng Lê ngày nào cũng nướng vài trăm ống "
            "cơm lam. Gạo nếp nương được ngâm nước suối, nhồi vào ống nứa non chặt từ rừng và nướng "
            "cho đến khi vỏ nứa cháy xém.\n\n"
            "Hộ kinh doanh có 4 lao động, đều là người trong gia đình. Cơm lam Sáng Lê đạt OCOP 3 sao."
        ),
        story_en=(
            "By a bed of glowing embers beside Highway 3, Sáng Lê's family roasts a few hundred tubes of "
            "bamboo rice every day. Upland sticky rice is soaked in stream water, packed into young "
            "bamboo cut in the forest and roasted until the outer skin chars.\n\n"
            "The business employs 4 people, all family. Sáng Lê bamboo-tube rice holds three OCOP stars."
        ),
    ),
    dict(
        slug="tam-cuong", name="Hộ kinh doanh Tám Cương", kind="household", locality="thanh-pho-bac-kan",
        address="Tổ 11, phường Đức Xuân, thành phố Bắc Kạn, tỉnh Bắc Kạn",  # demo
        phone="0916748253", scene="forest",  # demo
        story=(
            "Bếp củi nhà Tám Cương ở thành phố Bắc Kạn chưa bao giờ tắt lửa: trên gác bếp lúc nào cũng "
            "treo những dây lạp sườn, tảng thịt lợn bản đang ngả màu khói.\n\n"
            "Thịt lấy từ lợn thả vườn của các hộ quen ở Bạch Thông và Chợ Đồn, tẩm ướp theo công thức "
            "gia đình và hun khói chậm nhiều ngày. Lạp sườn và thịt treo gác bếp Tám Cương đạt OCOP 3 sao."
        ),
        story_en=(
            "The wood fire in the Tám Cương kitchen in Bắc Kạn city never goes out: above it hang "
            "strings of sausages and slabs of local pork slowly turning the colour of smoke.\n\n"
            "The meat comes from free-range pigs raised by trusted families in Bạch Thông and Chợ Đồn, "
            "seasoned to a family recipe and smoked slowly for days. Tám Cương sausages and smoked pork "
            "hold three OCOP stars."
        ),
    ),
    dict(
        slug="quynh-mai-homestay", name="Quỳnh Mai Homestay", kind="household", locality="nam-mau",
        address="Bản Pác Ngòi, xã Nam Mẫu, huyện Ba Bể, tỉnh Bắc Kạn",  # (?) village not verified
        phone="0989546217", scene="lake",  # demo
        story=(
            "Quỳnh Mai Homestay là ngôi nhà sàn gỗ của một gia đình người Tày bên hồ Ba Bể. Tầng trên "
            "là chỗ nghỉ cho khách, tầng dưới là bếp lửa, nơi chủ nhà nấu cá nướng, măng xào và xôi "
            "nếp mời khách mỗi tối.\n\n"
            "Nhà có 6 phòng, đón khách quanh năm. Chủ nhà đưa khách chèo thuyền độc mộc, đi bộ qua "
            "bản và kể về những lễ hội của người Tày quanh hồ. Dịch vụ homestay đạt OCOP 3 sao."
        ),
        story_en=(
            "Quỳnh Mai Homestay is a Tày family's wooden stilt house beside Ba Bể lake. Guests sleep "
            "upstairs; downstairs is the hearth, where the family grills lake fish, fries bamboo shoots "
            "and steams sticky rice for dinner each evening.\n\n"
            "The house has 6 rooms and is open all year. Your hosts will take you out in a dugout "
            "canoe, walk you through the village and tell you about the Tày festivals around the lake. "
            "The homestay holds three OCOP stars."
        ),
    ),
    dict(
        slug="ba-be-green-homestay", name="Ba Bể Green Homestay", kind="household", locality="nam-mau",
        address="Bản Bó Lù, xã Nam Mẫu, huyện Ba Bể, tỉnh Bắc Kạn",  # (?) village not verified
        phone="0974812653", scene="lake",  # demo
        story=(
            "Ba Bể Green Homestay nằm giữa ruộng lúa và vườn cây của xã Nam Mẫu, nhìn ra những dãy núi "
            "đá vôi bao quanh hồ. Hai vợ chồng chủ nhà là người Tày, từng làm hướng dẫn viên ở Vườn "
            "quốc gia Ba Bể.\n\n"
            "Homestay có 8 phòng, cả phòng riêng và phòng tập thể. Bữa sáng là xôi nếp Tài, trà Shan "
            "tuyết và mật ong rừng của các hợp tác xã trong vùng. Dịch vụ đạt OCOP 3 sao."
        ),
        story_en=(
            "Ba Bể Green Homestay sits among the rice fields and gardens of Nam Mẫu commune, looking "
            "out at the limestone ridges around the lake. The couple who run it are Tày and used to "
            "work as guides in Ba Bể National Park.\n\n"
            "There are 8 rooms, private and shared. Breakfast is Nếp Tài sticky rice, Shan tuyết tea "
            "and forest honey from cooperatives nearby. The homestay holds three OCOP stars."
        ),
    ),
    # DEMO DATA: the three producers below are invented so that groups IV and V and the district of
    # Pác Nặm are represented; their products carry the demo's expired and revoked certificates, so
    # that no real producer is shown with a lapsed or revoked certificate.
    dict(
        slug="htx-tho-cam-na-phac", name="Hợp tác xã Thổ cẩm Nà Phặc (demo)", kind="cooperative",
        locality="na-phac",
        address="Tổ 2, thị trấn Nà Phặc, huyện Ngân Sơn, tỉnh Bắc Kạn",
        phone="0357284196", scene="terraces",
        story=(
            "Hợp tác xã Thổ cẩm Nà Phặc là nơi 14 chị em người Tày, người Dao ở Ngân Sơn cùng ngồi bên "
            "khung cửi. Sợi bông được nhuộm chàm và nhuộm lá rừng, dệt thành những hoa văn quả trám, "
            "hoa tám cánh mà các bà, các mẹ truyền lại.\n\n"
            "Ngoài vải thổ cẩm, hợp tác xã còn đan giỏ tre, giang – nghề phụ của các ông trong những "
            "ngày nông nhàn. *Hợp tác xã này là dữ liệu minh hoạ.*"
        ),
        story_en=(
            "Nà Phặc Brocade Cooperative is where 14 Tày and Dao women of Ngân Sơn sit together at their "
            "looms. Cotton is dyed with indigo and forest leaves and woven into the diamond and "
            "eight-petal patterns handed down by their mothers and grandmothers.\n\n"
            "Besides brocade, the cooperative sells bamboo baskets woven by the men in the quiet months "
            "between harvests. *This cooperative is demo data.*"
        ),
    ),
    dict(
        slug="htx-hoa-lan-bac-kan", name="Hợp tác xã Hoa lan Bắc Kạn (demo)", kind="cooperative",
        locality="huyen-tung",
        address="Tổ 5, phường Huyền Tụng, thành phố Bắc Kạn, tỉnh Bắc Kạn",
        phone="0945187362", scene="forest",
        story=(
            "Hợp tác xã Hoa lan Bắc Kạn có 5 thành viên, trồng lan trong hai nhà màng ở phường Huyền "
            "Tụng. Khí hậu mát của Bắc Kạn giúp hoa bền màu và nở đúng dịp Tết.\n\n"
            "Mọi cây lan đều được nhân giống tại vườn, không khai thác từ rừng tự nhiên. *Hợp tác xã "
            "này là dữ liệu minh hoạ.*"
        ),
        story_en=(
            "Bắc Kạn Orchid Cooperative has 5 members growing orchids in two greenhouses in Huyền Tụng "
            "ward. Bắc Kạn's cool climate keeps the colours bright and brings the flowers out just in "
            "time for Tết.\n\n"
            "Every plant is propagated in the nursery; nothing is taken from the wild. *This "
            "cooperative is demo data.*"
        ),
    ),
    dict(
        slug="htx-nong-lam-san-pac-nam", name="Hợp tác xã Nông lâm sản Pác Nặm (demo)", kind="cooperative",
        locality="boc-bo",
        address="Thôn Nà Coóc, xã Bộc Bố, huyện Pác Nặm, tỉnh Bắc Kạn",
        phone="0396518274", scene="forest",
        story=(
            "Pác Nặm là huyện vùng cao xa nhất của Bắc Kạn, nơi người Mông, người Dao và người Tày sống "
            "giữa núi đá và rừng nứa. Hợp tác xã Nông lâm sản Pác Nặm gồm 10 thành viên, thu mua măng "
            "rừng và làm bánh khẩu sli theo mùa.\n\n"
            "*Hợp tác xã này là dữ liệu minh hoạ.*"
        ),
        story_en=(
            "Pác Nặm is Bắc Kạn's most remote highland district, where Hmong, Dao and Tày families live "
            "among limestone peaks and bamboo forest. The 10 members of this cooperative buy wild "
            "bamboo shoots and make khẩu sli puffed-rice sweets in season.\n\n"
            "*This cooperative is demo data.*"
        ),
    ),
]

# ---- products ---------------------------------------------------------------------------------
# DEMO DATA: every price, weight and barcode; and every product not named in DOMAIN.md (marked
# "demo product"). Stars are from DOMAIN.md for the real products.
#
# cert: how the certificate history is built (see _certificate_plan):
#   absent          one valid certificate issued 2–31 months ago (re-recognised if it would lapse)
#   "certs"         real, dated decisions (then re-recognised every 36 months up to today)
#   upgrade_from=3  a 3★ certificate, superseded by an upgrade to ``stars``
#   ("expiring", n) issued so that it expires n days from today
#   "expired"       its only certificate lapsed 40 days ago (status still "active")
#   "revoked"       its only certificate was revoked by decision three weeks ago
# stock: "wide" (default), "narrow" (1–2 shops), "none", ("rooms", n), ("shops", [slugs]);
#   online=True puts it at every shop that ships online.
PRODUCTS = [
    dict(
        producer="htx-tai-hoan", group="I.3", stars=5, online=True,
        name="Miến dong Tài Hoan", name_en="Tài Hoan arrowroot glass noodles",
        unit="túi 1 kg", unit_en="1 kg bag", price=110000, weight=1050,
        certs=[
            dict(stars=5, kind="new", decision="2890/QĐ-BNN-VPĐP", issued=date(2021, 6, 30), score=91),
            dict(stars=5, kind="re_recognition", decision="2417/QĐ-BNN-VPĐP",  # demo number and date
                 issued=date(2024, 6, 20), score=92),
        ],
        description=(
            "Sợi miến làm hoàn toàn từ tinh bột dong riềng trồng trên đồi đất Côn Minh, tráng và phơi "
            "nắng tự nhiên, không chất tẩy trắng, không phụ gia. Sợi miến màu nâu trong, nấu không nát, "
            "giữ được độ dai và mùi thơm nhẹ của củ dong.\n\n"
            "Ngâm miến trong nước lạnh 5–7 phút rồi trần qua nước sôi. Hợp với miến xào lòng gà, miến "
            "trộn, lẩu hay canh măng vịt."
        ),
        description_en=(
            "Noodles made only from the starch of canna (arrowroot) grown on the hills of Côn Minh, "
            "sheeted and sun-dried with no bleach and no additives. They are a translucent brown, hold "
            "together in the pot and stay pleasantly chewy with a faint nutty scent.\n\n"
            "Soak in cold water for 5–7 minutes, then blanch in boiling water. Lovely stir-fried with "
            "chicken giblets, in noodle salads, hot pots or duck and bamboo-shoot soup."
        ),
    ),
    dict(
        producer="htx-tai-hoan", group="I.2", stars=3,  # demo product
        name="Bột dong riềng Tài Hoan", name_en="Tài Hoan arrowroot starch",
        unit="túi 1 kg", unit_en="1 kg bag", price=65000, weight=1030,
        description=(
            "Tinh bột dong riềng lọc nhiều lần bằng nước giếng, phơi khô tự nhiên – chính là nguyên "
            "liệu làm nên sợi miến Tài Hoan. Bột trắng mịn, không lẫn tạp chất.\n\n"
            "Dùng làm bánh, nấu chè, làm sánh canh hoặc pha nước bột dong giải nhiệt mùa hè."
        ),
        description_en=(
            "Canna starch settled several times in well water and dried naturally — the very starch "
            "that becomes Tài Hoan noodles. Fine, white and clean.\n\n"
            "Use it for cakes and sweet soups, to thicken broths, or stirred into a cooling summer drink."
        ),
    ),
    dict(
        producer="htx-yen-duong", group="I.2", stars=4, online=True,
        name="Gạo Nếp Tài", name_en="Nếp Tài sticky rice",
        unit="túi 5 kg", unit_en="5 kg bag", price=210000, weight=5100,
        certs=[dict(stars=4, kind="new", decision="2145/QĐ-UBND",  # demo number; real year 2023
                    issued=date(2023, 10, 27), score=78)],
        description=(
            "Nếp Tài là giống lúa nếp bản địa của người Tày ở Ba Bể, mỗi năm chỉ cấy một vụ trên những "
            "cánh đồng ven suối xã Yến Dương. Hạt gạo tròn, trắng đục như sữa; đồ xôi dẻo mà không nhão, "
            "thơm ngậy mùi lúa mới.\n\n"
            "Dùng đồ xôi, gói bánh chưng, bánh gio, làm cơm lam hay nấu rượu nếp. Bảo quản nơi khô ráo, "
            "thoáng mát."
        ),
        description_en=(
            "Nếp Tài is an heirloom glutinous rice of the Tày people of Ba Bể, grown once a year in the "
            "stream-fed fields of Yến Dương commune. The grains are round and milky white; steamed, they "
            "turn soft and sticky without going mushy, with the rich scent of new rice.\n\n"
            "Steam it as xôi, wrap it in bánh chưng or bánh gio, cook it in bamboo or ferment it into "
            "rice wine. Keep in a cool, dry place."
        ),
    ),
    dict(
        producer="htx-yen-duong", group="I.2", stars=3,  # demo product
        name="Gạo Bao Thai Yến Dương", name_en="Yến Dương Bao Thai rice",
        unit="túi 5 kg", unit_en="5 kg bag", price=140000, weight=5100,
        description=(
            "Gạo tẻ Bao Thai cấy trên ruộng bậc thang của xã Yến Dương, chỉ bón phân chuồng ủ hoai. "
            "Cơm mềm, hơi dẻo, để nguội vẫn không khô cứng.\n\n"
            "Xay xát theo mẻ nhỏ để gạo luôn mới."
        ),
        description_en=(
            "Bao Thai rice grown on the terraces of Yến Dương commune and fed with composted manure "
            "only. Soft and slightly sticky, it stays tender as it cools.\n\n"
            "Milled in small batches so every bag is fresh."
        ),
    ),
    dict(
        producer="duoc-lieu-bac-ha", group="III.1", stars=4, online=True,
        name="Thực phẩm bảo vệ sức khoẻ Vicumax + Nano Curcumin",
        name_en="Vicumax + Nano Curcumin dietary supplement",
        unit="hộp 60 viên", unit_en="box of 60 capsules", price=390000, weight=120,
        certs=[dict(stars=4, kind="new", decision="2145/QĐ-UBND", issued=date(2023, 10, 27), score=76)],
        description=(
            "Viên nang chứa curcumin từ nghệ vàng trồng tại Bắc Kạn, bào chế ở dạng nano để cơ thể dễ "
            "hấp thu. Sản phẩm hỗ trợ bảo vệ niêm mạc dạ dày và tăng cường sức khoẻ tiêu hoá.\n\n"
            "Thực phẩm này không phải là thuốc và không có tác dụng thay thế thuốc chữa bệnh. Đọc kỹ "
            "hướng dẫn sử dụng trước khi dùng."
        ),
        description_en=(
            "Capsules of curcumin from turmeric grown in Bắc Kạn, prepared as nano-particles so the "
            "body absorbs it more easily. Supports the stomach lining and digestive health.\n\n"
            "This is a food supplement, not a medicine, and does not replace medical treatment. Read "
            "the directions before use."
        ),
    ),
    dict(
        producer="duoc-lieu-bac-ha", group="III.1", stars=4,
        name="Thực phẩm bảo vệ sức khoẻ Vicumax plus Nano Curcumin",
        name_en="Vicumax plus Nano Curcumin dietary supplement",
        unit="hộp 60 viên", unit_en="box of 60 capsules", price=480000, weight=120,
        certs=[dict(stars=4, kind="new", decision="2145/QĐ-UBND", issued=date(2023, 10, 27), score=79)],
        description=(
            "Công thức nâng cao của Vicumax: nano curcumin kết hợp thêm dược liệu hỗ trợ tiêu hoá, giúp "
            "giảm cảm giác nóng rát, đầy hơi và hỗ trợ phục hồi niêm mạc dạ dày.\n\n"
            "Thực phẩm này không phải là thuốc và không có tác dụng thay thế thuốc chữa bệnh."
        ),
        description_en=(
            "The stronger Vicumax formula: nano curcumin with added digestive herbs to ease heartburn "
            "and bloating and support the healing of the stomach lining.\n\n"
            "This is a food supplement, not a medicine, and does not replace medical treatment."
        ),
    ),
    dict(
        producer="duoc-lieu-bac-ha", group="III.1", stars=4,
        name="Thực phẩm bảo vệ sức khoẻ Vicumax plus tam thất tiêu đen Nano Curcumin",
        name_en="Vicumax plus notoginseng and black pepper Nano Curcumin dietary supplement",
        unit="hộp 60 viên", unit_en="box of 60 capsules", price=620000, weight=120,
        certs=[dict(stars=4, kind="new", decision="2145/QĐ-UBND", issued=date(2023, 10, 27), score=81)],
        description=(
            "Nano curcumin phối hợp với tam thất và chiết xuất tiêu đen (piperine) – hoạt chất giúp "
            "tăng hấp thu curcumin. Hỗ trợ tăng cường sức đề kháng, bồi bổ cơ thể.\n\n"
            "Thực phẩm này không phải là thuốc và không có tác dụng thay thế thuốc chữa bệnh."
        ),
        description_en=(
            "Nano curcumin with notoginseng and black-pepper extract (piperine), which helps the body "
            "take up curcumin. Supports resistance and general vitality.\n\n"
            "This is a food supplement, not a medicine, and does not replace medical treatment."
        ),
    ),
    dict(
        producer="duoc-lieu-bac-ha", group="I.5", stars=4,  # (?) producer per DOMAIN.md
        name="Trà giảo cổ lam núi đá", name_en="Limestone-mountain jiaogulan tea",
        unit="hộp 200 g", unit_en="200 g box", price=150000, weight=280,
        description=(
            "Giảo cổ lam mọc trên các dãy núi đá vôi Bắc Kạn, được thu hái và sấy khô ở nhiệt độ thấp "
            "để giữ vị đắng nhẹ, hậu ngọt.\n\n"
            "Hãm một nhúm trà với nước sôi trong 5 phút; uống nóng hoặc để nguội."
        ),
        description_en=(
            "Jiaogulan (Gynostemma) from the limestone ranges of Bắc Kạn, picked and dried at low "
            "temperature to keep its gentle bitterness and sweet finish.\n\n"
            "Steep a pinch in boiling water for five minutes; drink hot or cool."
        ),
    ),
    dict(
        producer="nong-san-bac-kan", group="III.1", stars=4,
        name="Tinh nghệ Bắc Kạn", name_en="Bắc Kạn turmeric starch",
        unit="hũ 500 g", unit_en="500 g jar", price=320000, weight=650,
        description=(
            "Tinh bột nghệ vàng đã lọc bỏ tinh dầu và xơ, giữ lại curcumin. Nghệ trồng trên đất đồi Bắc "
            "Kạn, thu hoạch khi củ đủ 10–12 tháng tuổi.\n\n"
            "Pha 1–2 thìa với nước ấm và mật ong, uống trước bữa ăn; cũng có thể dùng làm mặt nạ dưỡng da."
        ),
        description_en=(
            "Turmeric starch with the oil and fibre washed out, keeping the curcumin. The turmeric grows "
            "on Bắc Kạn hillsides and is lifted at 10–12 months.\n\n"
            "Stir 1–2 teaspoons into warm water with honey before meals, or use it as a face mask."
        ),
    ),
    dict(
        producer="nong-san-bac-kan", group="III.1", stars=3,
        name="Viên tinh nghệ mật ong", name_en="Turmeric and honey pills",
        unit="hũ 200 g", unit_en="200 g jar", price=180000, weight=280,
        description=(
            "Tinh nghệ vàng vo viên cùng mật ong rừng, sấy nhẹ – tiện mang theo, không cần pha. Mỗi ngày "
            "dùng 10–15 viên trước bữa ăn.\n\n"
            "Không dùng cho trẻ dưới 1 tuổi."
        ),
        description_en=(
            "Turmeric starch rolled with forest honey into small pills and gently dried — nothing to "
            "mix. Take 10–15 pills a day before meals.\n\n"
            "Not for children under one year old."
        ),
    ),
    dict(
        producer="nong-san-bac-kan", group="I.4", stars=3,  # demo product
        name="Bột nghệ vàng Bắc Kạn", name_en="Bắc Kạn ground turmeric",
        unit="túi 500 g", unit_en="500 g bag", price=95000, weight=530,
        description=(
            "Nghệ vàng thái lát, sấy và xay mịn, giữ màu vàng cam đặc trưng. Dùng tẩm ướp cá, gà, nấu "
            "cà ri hay đổ bánh xèo.\n\n"
            "Túi có khoá kéo; bảo quản nơi khô ráo."
        ),
        description_en=(
            "Sliced, dried and finely ground turmeric with its deep orange colour. For marinating fish "
            "and chicken, curries and bánh xèo.\n\n"
            "Resealable bag; keep dry."
        ),
    ),
    dict(
        producer="ha-diep", group="I.5", stars=4, upgrade_from=3,
        name="Trà hoa vàng Bắc Kạn", name_en="Bắc Kạn golden camellia tea",
        unit="hộp 50 g", unit_en="50 g box", price=280000, weight=160,
        description=(
            "Hoa trà vàng (kim hoa trà) hái vào sáng sớm khi hoa vừa nở, sấy lạnh để giữ nguyên sắc "
            "vàng. Nước trà vàng óng, vị ngọt thanh, hương dịu.\n\n"
            "Mỗi bông hãm với 150 ml nước khoảng 90 °C, pha lại được 3–4 lần."
        ),
        description_en=(
            "Golden camellia flowers picked in the early morning as they open and cold-dried to keep "
            "their colour. The tea pours bright gold, sweet and gently fragrant.\n\n"
            "Steep one flower in 150 ml of water at about 90 °C; it gives three or four infusions."
        ),
    ),
    dict(
        producer="ha-diep", group="I.5", stars=4,
        name="Trà nụ vối", name_en="Water-myrtle bud tea",
        unit="hộp 200 g", unit_en="200 g box", price=95000, weight=260,
        description=(
            "Nụ vối ủ và sao theo cách làm truyền thống của người Tày, cho nước trà màu hổ phách, vị "
            "chát nhẹ và thơm. Trà nụ vối giúp dễ tiêu, là thức uống quen thuộc sau bữa ăn.\n\n"
            "Hãm 1 thìa nụ vối với nước sôi trong 5–7 phút."
        ),
        description_en=(
            "Water-myrtle (vối) buds fermented and roasted the traditional Tày way, giving an amber tea, "
            "lightly astringent and fragrant. Long drunk after meals to help digestion.\n\n"
            "Steep a spoonful in boiling water for 5–7 minutes."
        ),
    ),
    dict(
        producer="htx-thanh-tam", group="II.1", stars=4, upgrade_from=3,
        name="Rượu men lá Thanh Tâm", name_en="Thanh Tâm leaf-yeast rice spirit",
        unit="chai 500 ml", unit_en="500 ml bottle", price=120000, weight=900,
        description=(
            "Rượu nấu từ gạo nếp nương, lên men bằng men lá – bánh men làm từ hơn mười loại lá rừng theo "
            "bí quyết của người Tày Bằng Phúc. Rượu trong, êm, ngọt hậu và thơm mùi lá.\n\n"
            "Nồng độ 29% vol. Sản phẩm không dành cho người dưới 18 tuổi."
        ),
        description_en=(
            "Spirit distilled from upland sticky rice fermented with leaf yeast — cakes made from more "
            "than ten forest leaves to a Tày recipe kept in Bằng Phúc. Clear and smooth, with a sweet "
            "finish and a herbal nose.\n\n"
            "29% ABV. Not for sale to anyone under 18."
        ),
    ),
    dict(
        producer="htx-thanh-tam", group="II.1", stars=3, stock="none",  # demo product
        name="Rượu ngô men lá Thanh Tâm", name_en="Thanh Tâm leaf-yeast corn spirit",
        unit="chai 500 ml", unit_en="500 ml bottle", price=100000, weight=900,
        description=(
            "Ngô nếp trồng trên nương được ủ men lá rồi chưng cất bằng nồi đồng. Rượu đậm, hậu ngọt "
            "của ngô.\n\n"
            "Nồng độ 32% vol. Sản phẩm không dành cho người dưới 18 tuổi."
        ),
        description_en=(
            "Upland waxy corn fermented with leaf yeast and distilled in copper. Full-bodied, with the "
            "sweetness of corn on the finish.\n\n"
            "32% ABV. Not for sale to anyone under 18."
        ),
    ),
    dict(
        producer="htx-ruou-men-la-bang-phuc", group="II.1", stars=4, cert=("expiring", 27),
        name="Rượu men lá Bằng Phúc", name_en="Bằng Phúc leaf-yeast rice spirit",
        unit="chai 500 ml", unit_en="500 ml bottle", price=130000, weight=900,
        description=(
            "Gạo nếp địa phương, nước mạch nguồn trong núi và men lá tự làm. Rượu được hạ thổ trong chum "
            "sành ít nhất ba tháng trước khi đóng chai, nên êm và thơm.\n\n"
            "Nồng độ 30% vol. Sản phẩm không dành cho người dưới 18 tuổi."
        ),
        description_en=(
            "Local sticky rice, spring water from the mountain and home-made leaf yeast. The spirit "
            "rests in buried earthenware jars for at least three months before bottling, which makes "
            "it smooth and fragrant.\n\n"
            "30% ABV. Not for sale to anyone under 18."
        ),
    ),
    dict(
        producer="htx-hoan-thanh", group="I.2", stars=3,
        name="Gạo Bao Thai Chợ Đồn", name_en="Chợ Đồn Bao Thai rice",
        unit="túi 5 kg", unit_en="5 kg bag", price=125000, weight=5100,
        description=(
            "Bao Thai là giống lúa đã gắn với đồng ruộng Chợ Đồn mấy chục năm. Hạt gạo nhỏ, trong; cơm "
            "dẻo, thơm và ngọt đậm.\n\n"
            "Gạo xay xát tại hợp tác xã ngay sau thu hoạch và đóng túi hút chân không."
        ),
        description_en=(
            "Bao Thai rice has been grown in Chợ Đồn's valleys for decades. The grains are small and "
            "clear; cooked, the rice is soft, fragrant and sweet.\n\n"
            "Milled at the cooperative right after harvest and vacuum-packed."
        ),
    ),
    dict(
        producer="htx-duoc-lieu-bao-chau", group="III.3", stars=3,
        name="Trà cà gai leo", name_en="Cà gai leo herbal tea",
        unit="hộp 200 g", unit_en="200 g box", price=85000, weight=260,
        description=(
            "Cà gai leo trồng theo hướng hữu cơ trên đất Văn Lang, thu cả thân và lá, thái nhỏ và sao "
            "khô. Theo kinh nghiệm dân gian, trà cà gai leo giúp mát gan, hỗ trợ giải rượu.\n\n"
            "Hãm 5–10 g trà với 500 ml nước sôi, uống trong ngày."
        ),
        description_en=(
            "Cà gai leo (Solanum procumbens) grown organically in Văn Lang, stems and leaves chopped and "
            "roasted. Folk medicine uses it to cool the liver and ease a hangover.\n\n"
            "Steep 5–10 g in 500 ml of boiling water and drink through the day."
        ),
    ),
    dict(
        producer="htx-duoc-lieu-bao-chau", group="III.3", stars=3,  # demo product
        name="Trà túi lọc cà gai leo", name_en="Cà gai leo tea bags",
        unit="hộp 25 túi lọc", unit_en="box of 25 tea bags", price=65000, weight=120,
        description=(
            "Cà gai leo sấy khô, nghiền vừa và đóng túi lọc – tiện dùng ở văn phòng hay khi đi xa.\n\n"
            "Mỗi túi pha với 200 ml nước sôi, chờ 5 phút."
        ),
        description_en=(
            "Dried cà gai leo, coarsely ground and packed in tea bags for the office or the road.\n\n"
            "One bag to 200 ml of boiling water; wait five minutes."
        ),
    ),
    dict(
        producer="htx-duoc-lieu-bao-chau", group="III.2", stars=3,  # demo product
        name="Dầu gội thảo dược Bảo Châu", name_en="Bảo Châu herbal shampoo",
        unit="chai 300 ml", unit_en="300 ml bottle", price=95000, weight=360,
        description=(
            "Nấu từ bồ kết, vỏ bưởi, hương nhu và sả trồng tại vườn hợp tác xã, không chứa chất tạo bọt "
            "mạnh. Tóc sạch nhẹ, giảm gàu, thơm mùi thảo mộc.\n\n"
            "Lắc đều trước khi dùng; cặn lắng là thảo dược tự nhiên."
        ),
        description_en=(
            "Brewed from soap-bean pods, pomelo peel, holy basil and lemongrass grown in the "
            "cooperative's garden, with no harsh foaming agents. Leaves hair clean and lightly scented "
            "and helps with dandruff.\n\n"
            "Shake before use; any sediment is natural herb."
        ),
    ),
    dict(
        producer="htx-duoc-lieu-bao-chau", group="III.2", stars=3,  # demo product
        name="Thuốc tắm thảo dược người Dao", name_en="Dao herbal bath",
        unit="túi 500 g", unit_en="500 g bag", price=60000, weight=520,
        description=(
            "Hơn hai mươi loại lá thuốc do đồng bào Dao ở Na Rì hái trên rừng, phơi khô và phối theo bài "
            "thuốc gia truyền. Đun sôi một gói nhỏ, pha vào bồn nước ấm để thư giãn, giảm đau mỏi.\n\n"
            "Không dùng cho vết thương hở."
        ),
        description_en=(
            "More than twenty medicinal leaves gathered in the forest by Dao families of Na Rì, dried "
            "and blended to an inherited recipe. Boil one sachet and add it to a warm bath to ease tired "
            "muscles.\n\n"
            "Not for open wounds."
        ),
    ),
    dict(
        producer="htx-nn-sach-tan-son", group="I.2", stars=3,
        name="Gạo nếp Tân Sơn", name_en="Tân Sơn glutinous rice",
        unit="túi 2 kg", unit_en="2 kg bag", price=80000, weight=2050,
        description=(
            "Nếp cấy trên những thửa ruộng bậc thang của xã Tân Sơn, không dùng thuốc diệt cỏ. Xôi dẻo "
            "thơm, để lâu không cứng.\n\n"
            "Hợp để đồ xôi ngũ sắc, gói bánh và nấu rượu."
        ),
        description_en=(
            "Sticky rice from the terraced fields of Tân Sơn commune, grown without herbicides. Steamed, "
            "it is fragrant and soft and stays so for hours.\n\n"
            "Good for five-colour sticky rice, rice cakes and rice wine."
        ),
    ),
    dict(
        producer="htx-20-10", group="I.3", stars=3,
        name="Bún khô Huyền Nga", name_en="Huyền Nga dried rice vermicelli",
        unit="túi 500 g", unit_en="500 g bag", price=35000, weight=520,
        description=(
            "Bún làm từ gạo tẻ địa phương, ép sợi và phơi khô trên giàn tre, không dùng hàn the hay chất "
            "bảo quản. Sợi bún trắng ngà, luộc nhanh mềm mà không nát.\n\n"
            "Hợp với bún trộn, bún xào, bún nước dùng gà hay bún cá."
        ),
        description_en=(
            "Vermicelli made from local rice, pressed into strands and dried on bamboo racks, with no "
            "borax or preservatives. The ivory strands soften quickly in boiling water without falling "
            "apart.\n\n"
            "For noodle salads, stir-fries, chicken broth or fish noodle soup."
        ),
    ),
    dict(
        producer="htx-20-10", group="I.3", stars=3,  # demo product
        name="Phở khô Huyền Nga", name_en="Huyền Nga dried phở noodles",
        unit="túi 500 g", unit_en="500 g bag", price=35000, weight=520,
        description=(
            "Bánh phở tráng mỏng từ gạo Bao Thai, cắt sợi và sấy khô. Chỉ cần chần qua nước sôi là có "
            "bát phở mềm, dai vừa phải."
        ),
        description_en=(
            "Thin rice sheets made from Bao Thai rice, cut into ribbons and dried. Blanch in boiling "
            "water for a soft, gently chewy bowl of phở."
        ),
    ),
    dict(
        producer="htx-che-shan-tuyet-ban-chao", group="I.5", stars=3,
        name="Trà Shan tuyết Khau Bjooc", name_en="Khau Bjooc Shan tuyết tea",
        unit="hộp 200 g", unit_en="200 g box", price=180000, weight=280,
        description=(
            "Trà hái từ những cây chè Shan tuyết cổ thụ trên núi Khau Bjooc, búp phủ lông tơ trắng như "
            "tuyết. Búp được hái một tôm hai lá, vò và sao tay trên chảo gang.\n\n"
            "Nước trà xanh vàng, vị chát dịu, hậu ngọt sâu."
        ),
        description_en=(
            "Picked from old Shan tuyết tea trees on Khau Bjooc mountain, their buds covered in "
            "snow-white down. One bud and two leaves are plucked, rolled and pan-fired by hand in "
            "cast-iron woks.\n\n"
            "A yellow-green cup, softly astringent with a long sweet finish."
        ),
    ),
    dict(
        # DOMAIN.md lists a 4★ "Trà Shan tuyết" whose producer is not known (?): shown here as a demo
        # product of the Bản Cháo cooperative.
        producer="htx-che-shan-tuyet-ban-chao", group="I.5", stars=4, stock="none",
        name="Trà Shan tuyết búp bạc Bản Cháo", name_en="Bản Cháo silver-bud Shan tuyết tea",
        unit="hộp 100 g", unit_en="100 g box", price=250000, weight=180,
        description=(
            "Chỉ dùng phần búp non phủ lông trắng, hái vào đầu xuân, làm héo tự nhiên rồi sấy nhẹ theo "
            "cách làm bạch trà. Nước trà vàng nhạt, hương quả chín, vị ngọt thanh.\n\n"
            "Hãm với nước 80–85 °C để giữ vị ngọt."
        ),
        description_en=(
            "Only the downy young buds, picked in early spring, withered naturally and gently dried in "
            "the white-tea way. A pale gold cup with a ripe-fruit aroma and a clean sweetness.\n\n"
            "Steep with water at 80–85 °C to keep the sweetness."
        ),
    ),
    dict(
        producer="htx-thanh-dat", group="I.2", stars=3,
        name="Mật ong rừng nguyên chất", name_en="Pure forest honey",
        unit="chai 1 lít", unit_en="1 litre bottle", price=450000, weight=1650,
        description=(
            "Mật của đàn ong nội nuôi ven rừng tự nhiên xã Nông Hạ, hút mật hoa rừng theo mùa. Mật sánh, "
            "màu hổ phách, có thể kết tinh khi trời lạnh – dấu hiệu của mật thật.\n\n"
            "Không dùng cho trẻ dưới 1 tuổi."
        ),
        description_en=(
            "Honey from native bees kept at the edge of the Nông Hạ forest, foraging on wildflowers "
            "through the seasons. Thick and amber, it may crystallise in cold weather — a sign of real "
            "honey.\n\n"
            "Not for children under one year old."
        ),
    ),
    dict(
        producer="htx-thanh-dat", group="II.2", stars=3,  # demo product
        name="Nước gừng mật ong Thành Đạt", name_en="Thành Đạt ginger and honey drink",
        unit="chai 330 ml", unit_en="330 ml bottle", price=25000, weight=450,
        description=(
            "Nước cốt gừng trâu pha cùng mật ong rừng của hợp tác xã, thanh trùng trong chai thuỷ tinh. "
            "Uống lạnh để giải khát, hâm ấm để chống lạnh ngày đông."
        ),
        description_en=(
            "Fiery local ginger juice blended with the cooperative's forest honey and pasteurised in "
            "glass bottles. Drink it chilled in summer, warmed in winter."
        ),
    ),
    dict(
        producer="htx-tan-dan", group="II.1", stars=3,
        name="Rượu chuối men lá", name_en="Leaf-yeast banana spirit",
        unit="chai 500 ml", unit_en="500 ml bottle", price=90000, weight=900,
        description=(
            "Chuối tây chín vàng được ủ cùng men lá rồi chưng cất. Rượu thơm mùi chuối chín, vị êm, "
            "thích hợp làm quà.\n\n"
            "Nồng độ 29% vol. Sản phẩm không dành cho người dưới 18 tuổi."
        ),
        description_en=(
            "Ripe bananas fermented with leaf yeast and distilled. Scented with ripe banana and smooth "
            "on the palate — a good gift.\n\n"
            "29% ABV. Not for sale to anyone under 18."
        ),
    ),
    dict(
        producer="htx-tan-dan", group="I.4", stars=3,
        name="Giấm chuối Mạnh Minh", name_en="Mạnh Minh banana vinegar",
        unit="chai 500 ml", unit_en="500 ml bottle", price=45000, weight=800,
        description=(
            "Giấm lên men tự nhiên từ chuối chín trong 3–4 tháng, không pha axit. Vị chua dịu, thơm; "
            "dùng pha nước chấm, trộn gỏi, ngâm hành tỏi.\n\n"
            "Lớp \"con giấm\" lắng ở đáy chai là điều bình thường của giấm lên men tự nhiên."
        ),
        description_en=(
            "Naturally fermented from ripe bananas over three to four months, with no added acid. A "
            "mild, fruity sourness for dipping sauces, salads and pickles.\n\n"
            "A cloudy \"mother\" settling at the bottom is normal for naturally fermented vinegar."
        ),
    ),
    dict(
        producer="tht-quan-ha", group="I.5", stars=3, cert=("expiring", 12),
        name="Trà hoa đu đủ đực", name_en="Male papaya flower tea",
        unit="hộp 100 g", unit_en="100 g box", price=120000, weight=180,
        description=(
            "Hoa đu đủ đực hái từ vườn của các hộ trong tổ hợp tác, sấy khô ở nhiệt độ thấp. Nước trà "
            "vàng nhạt, vị đắng nhẹ; dân gian dùng để thanh nhiệt, dễ ngủ.\n\n"
            "Có thể hãm cùng một lát gừng hoặc thêm mật ong."
        ),
        description_en=(
            "Male papaya flowers picked from members' gardens and dried at low temperature. A pale "
            "yellow tea, slightly bitter, which folk tradition drinks to cool the body and sleep well.\n\n"
            "Try it with a slice of ginger or a spoonful of honey."
        ),
    ),
    dict(
        producer="cam-thanh-mai", group="I.1", stars=3, stock="narrow",
        name="Cam ngọt Thanh Mai", name_en="Thanh Mai sweet oranges",
        unit="thùng 5 kg", unit_en="5 kg carton", price=150000, weight=5400,
        description=(
            "Cam trồng trên đồi đất đỏ xã Thanh Mai, bón phân hữu cơ, thu hoạch từ tháng Mười một đến "
            "Tết. Vỏ mỏng, múi mọng nước, ngọt đậm, hơi chua nhẹ.\n\n"
            "Hàng theo mùa, số lượng có hạn."
        ),
        description_en=(
            "Oranges from the red-earth hills of Thanh Mai commune, grown with organic fertiliser and "
            "picked from November until Tết. Thin skins, juicy segments, deeply sweet with a little "
            "tang.\n\n"
            "Seasonal; limited quantities."
        ),
    ),
    dict(
        producer="banh-gio-pac-san", group="I.3", stars=3, cert=("expiring", 48), stock="narrow",
        name="Bánh gio Pắc San", name_en="Pắc San lye-water rice cakes",
        unit="túi 10 chiếc", unit_en="bag of 10", price=50000, weight=800,
        description=(
            "Bánh gio của người Tày làm từ gạo nếp ngâm nước tro lọc, gói lá dong và luộc chín. Bánh "
            "trong màu hổ phách, mềm mát, chấm mật mía hoặc đường phèn.\n\n"
            "Bảo quản nơi thoáng mát, dùng trong 5 ngày."
        ),
        description_en=(
            "A Tày cake of sticky rice soaked in lye water filtered from wood ash, wrapped in dong "
            "leaves and boiled. The cakes turn translucent amber, soft and cool; eat them with cane "
            "molasses or rock sugar.\n\n"
            "Keep cool; best within five days."
        ),
    ),
    dict(
        producer="com-lam-sang-le", group="I.3", stars=3,
        name="Cơm lam Sáng Lê", name_en="Sáng Lê bamboo-tube rice",
        unit="túi 5 ống", unit_en="bag of 5 tubes", price=75000, weight=900,
        description=(
            "Gạo nếp nương ngâm nước suối, nhồi vào ống nứa non rồi nướng trên than hồng cho đến khi cơm "
            "dẻo thơm, quyện mùi tre. Bóc vỏ, cắt khoanh, chấm muối vừng.\n\n"
            "Hâm lại bằng cách hấp hoặc nướng qua."
        ),
        description_en=(
            "Upland sticky rice soaked in stream water, packed into young bamboo and roasted over embers "
            "until soft and scented with bamboo. Peel, slice and dip in sesame salt.\n\n"
            "Reheat by steaming or a quick roast."
        ),
    ),
    dict(
        producer="tam-cuong", group="I.3", stars=3,
        name="Lạp sườn Tám Cương", name_en="Tám Cương smoked sausage",
        unit="túi 500 g", unit_en="500 g bag", price=170000, weight=520,
        description=(
            "Thịt nạc vai và mỡ phần thái hạt lựu, ướp rượu trắng, gừng và đường phèn, nhồi ruột rồi hun "
            "khói trên gác bếp củi. Lạp sườn đỏ au, thơm mùi khói.\n\n"
            "Rán nhỏ lửa hoặc hấp chín rồi thái lát mỏng."
        ),
        description_en=(
            "Shoulder pork and back fat diced by hand, seasoned with rice spirit, ginger and rock sugar, "
            "stuffed into casings and smoked above the kitchen fire. Deep red and smoky.\n\n"
            "Fry over low heat or steam, then slice thin."
        ),
    ),
    dict(
        producer="tam-cuong", group="I.3", stars=3,
        name="Thịt lợn treo gác bếp Tám Cương", name_en="Tám Cương smoked pork",
        unit="túi 500 g", unit_en="500 g bag", price=250000, weight=520,
        description=(
            "Thịt lợn bản thả vườn tẩm gia vị rồi treo trên gác bếp, hun khói chậm nhiều ngày. Thớ thịt "
            "săn, đậm vị, thơm khói củi.\n\n"
            "Hấp 15 phút rồi thái mỏng, chấm tương ớt."
        ),
        description_en=(
            "Free-range local pork, seasoned and hung above the kitchen fire to smoke slowly for days. "
            "Firm, savoury and fragrant with woodsmoke.\n\n"
            "Steam for 15 minutes, slice thin and dip in chilli sauce."
        ),
    ),
    dict(
        producer="tam-cuong", group="I.3", stars=3, stock="none",  # demo product
        name="Thịt trâu gác bếp Tám Cương", name_en="Tám Cương smoked buffalo",
        unit="túi 500 g", unit_en="500 g bag", price=480000, weight=520,
        description=(
            "Thịt bắp trâu xé thớ, tẩm ớt, gừng, tỏi rồi sấy khói trên gác bếp. Miếng thịt dai, ngọt, "
            "thơm cay – món nhắm và quà biếu được ưa chuộng."
        ),
        description_en=(
            "Buffalo shank cut along the grain, rubbed with chilli, ginger and garlic and smoked above "
            "the hearth. Chewy, sweet and spicy — a favourite snack and gift."
        ),
    ),
    dict(
        producer="quynh-mai-homestay", group="VI.1", stars=3, stock=("rooms", 6),
        name="Quỳnh Mai homestay", name_en="Quỳnh Mai homestay",
        unit="đêm / người", unit_en="night per person", price=350000, weight=None,
        description=(
            "Nhà sàn gỗ của một gia đình người Tày, cách bờ hồ Ba Bể vài phút đi bộ. Giá gồm một đêm "
            "nghỉ, bữa sáng và đón tiễn tại bến thuyền.\n\n"
            "Có thể đặt thêm bữa tối với cá hồ, rau rừng, chèo thuyền độc mộc hay đạp xe quanh bản."
        ),
        description_en=(
            "A Tày family's wooden stilt house a few minutes' walk from Ba Bể lake. The price covers "
            "one night, breakfast and pick-up from the boat landing.\n\n"
            "Add a dinner of lake fish and forest greens, a dugout canoe trip or a bicycle ride round "
            "the village."
        ),
    ),
    dict(
        producer="ba-be-green-homestay", group="VI.1", stars=3, stock=("rooms", 8),
        name="Ba Bể Green Homestay", name_en="Ba Bể Green Homestay",
        unit="đêm / người", unit_en="night per person", price=380000, weight=None,
        description=(
            "Homestay giữa ruộng lúa và vườn cây ở xã Nam Mẫu, nhìn ra dãy núi đá quanh hồ Ba Bể. Giá "
            "gồm một đêm nghỉ và bữa sáng với xôi nếp Tài, trà Shan tuyết.\n\n"
            "Chủ nhà chỉ đường đi bộ tới động Hua Mạ, thác Đầu Đẳng và đảo Bà Goá."
        ),
        description_en=(
            "Among rice fields and gardens in Nam Mẫu commune, facing the limestone ridges around Ba Bể "
            "lake. The price covers one night and breakfast of Nếp Tài sticky rice and Shan tuyết tea.\n\n"
            "Your hosts will point you to the trails to Hua Mạ cave, Đầu Đẳng waterfall and the Widow's "
            "Island."
        ),
    ),
    dict(
        producer="htx-tho-cam-na-phac", group="IV.2", stars=3,  # demo product
        name="Khăn thổ cẩm Tày", name_en="Tày brocade scarf",
        unit="chiếc", unit_en="piece", price=250000, weight=200,
        description=(
            "Dệt tay trên khung cửi gỗ từ sợi bông nhuộm chàm và lá rừng, hoa văn quả trám, hoa tám "
            "cánh của người Tày. Mỗi chiếc mất khoảng hai ngày dệt.\n\n"
            "Kích thước khoảng 30 × 160 cm; giặt tay bằng nước lạnh."
        ),
        description_en=(
            "Hand-woven on a wooden loom from cotton dyed with indigo and forest leaves, in the Tày "
            "diamond and eight-petal flower patterns. Each scarf takes about two days at the loom.\n\n"
            "About 30 × 160 cm; hand-wash cold."
        ),
    ),
    dict(
        producer="htx-tho-cam-na-phac", group="IV.2", stars=3,  # demo product
        name="Túi thổ cẩm Tày", name_en="Tày brocade bag",
        unit="chiếc", unit_en="piece", price=320000, weight=300,
        description=(
            "Túi đeo vai may từ vải thổ cẩm dệt tay, lót vải bông, có khoá kéo và ngăn nhỏ bên trong. "
            "Vừa máy tính bảng, sổ tay và chai nước."
        ),
        description_en=(
            "A shoulder bag sewn from hand-woven brocade, lined with cotton, with a zip and an inner "
            "pocket. Fits a tablet, a notebook and a water bottle."
        ),
    ),
    dict(
        producer="htx-tho-cam-na-phac", group="IV.1", stars=3, cert="expired", stock="narrow",
        name="Giỏ tre đan Nà Phặc", name_en="Nà Phặc woven bamboo basket",  # demo product
        unit="chiếc", unit_en="piece", price=180000, weight=600,
        description=(
            "Giỏ đan từ tre, giang chẻ mỏng, hun khói chống mối mọt, quai bằng mây. Dùng đi chợ, đựng "
            "trái cây hay trang trí.\n\n"
            "Đường kính khoảng 30 cm."
        ),
        description_en=(
            "Woven from thinly split bamboo, smoked against insects, with a rattan handle. For the "
            "market, for fruit or for decoration.\n\n"
            "About 30 cm across."
        ),
    ),
    dict(
        producer="htx-hoa-lan-bac-kan", group="V.1", stars=3,  # demo product
        stock=("shops", ["ocop-bac-kan-trung-tam", "ocop-bac-kan-song-cau"]),
        name="Lan hồ điệp Bắc Kạn", name_en="Bắc Kạn moth orchid",
        unit="chậu 3 cành", unit_en="pot with 3 spikes", price=650000, weight=3000,
        description=(
            "Lan hồ điệp trồng trong nhà màng ở thành phố Bắc Kạn; khí hậu mát giúp hoa bền màu. Chậu "
            "gồm 3 cành, mỗi cành 8–10 bông, trồng trong chậu gốm men.\n\n"
            "Phun sương 2–3 lần mỗi tuần, để nơi có ánh sáng tán xạ."
        ),
        description_en=(
            "Moth orchids raised in a greenhouse in Bắc Kạn city, where cool nights keep the colours "
            "bright. Three spikes of 8–10 flowers each, in a glazed ceramic pot.\n\n"
            "Mist two or three times a week and keep in bright, indirect light."
        ),
    ),
    dict(
        producer="htx-hoa-lan-bac-kan", group="V.1", stars=3,  # demo product
        stock=("shops", ["ocop-bac-kan-trung-tam", "ocop-bach-thong"]),
        name="Lan kiếm Bắc Kạn", name_en="Bắc Kạn cymbidium orchid",
        unit="chậu", unit_en="pot", price=450000, weight=2500,
        description=(
            "Lan kiếm (địa lan) nhân giống từ cây mẹ trong vườn, không khai thác từ rừng. Lá dài mềm, "
            "hoa nở dịp Tết, hương thơm nhẹ.\n\n"
            "Trồng trong chậu đất nung với giá thể vỏ thông và than củi."
        ),
        description_en=(
            "Cymbidium orchids propagated from the nursery's own mother plants — never taken from the "
            "wild. Long, graceful leaves and lightly scented flowers that open around Tết.\n\n"
            "Planted in a terracotta pot with pine bark and charcoal."
        ),
    ),
    dict(
        producer="htx-nong-lam-san-pac-nam", group="I.3", stars=3,  # demo product
        name="Khẩu sli Pác Nặm", name_en="Pác Nặm khẩu sli puffed-rice sweets",
        unit="hộp 500 g", unit_en="500 g box", price=70000, weight=650,
        description=(
            "Khẩu sli là món bánh kẹo cổ truyền của người Tày, Nùng: gạo nếp đồ chín, phơi khô, rang "
            "nổ rồi đảo với mật mía, gừng và lạc rang. Giòn tan, ngọt thơm – không thể thiếu trên mâm "
            "cỗ ngày Tết.\n\n"
            "Đậy kín sau khi mở hộp để giữ giòn."
        ),
        description_en=(
            "A traditional Tày and Nùng sweet: sticky rice is steamed, dried and popped, then folded "
            "into cane molasses with ginger and roasted peanuts. Crisp, sweet and fragrant — a fixture "
            "of the Tết table.\n\n"
            "Close the box after opening to keep it crisp."
        ),
    ),
    dict(
        producer="htx-nong-lam-san-pac-nam", group="I.2", stars=3, cert="revoked", stock="narrow",
        name="Măng khô Pác Nặm", name_en="Pác Nặm dried bamboo shoots",  # demo product
        unit="túi 500 g", unit_en="500 g bag", price=150000, weight=520,
        description=(
            "Măng nứa rừng luộc chín, thái và phơi khô trên gác bếp. Ngâm nước 1–2 ngày trước khi nấu "
            "canh, hầm xương hay xào."
        ),
        description_en=(
            "Wild bamboo shoots boiled, sliced and dried above the hearth. Soak for one or two days "
            "before using in soups, braises and stir-fries."
        ),
    ),
]

REVOCATION_REASON = (  # demo: invented for the demo's revoked certificate
    "Chủ thể không duy trì hồ sơ truy xuất nguồn gốc và hồ sơ bảo đảm an toàn thực phẩm theo quy "
    "định; không thực hiện đúng quy trình sản xuất đã đăng ký (dữ liệu minh hoạ)."
)

# ---- shops ------------------------------------------------------------------------------------
# The ten OCOP shops of Decision 736/QĐ-UBND (26/5/2021) are real in number; their names, addresses,
# phones, hours and coordinates here are DEMO DATA (coordinates approximate the town centres).
HOURS_DAY = ("Thứ Hai – Thứ Sáu: 7:30 – 17:00\nThứ Bảy – Chủ nhật: 8:00 – 16:30",
             "Monday – Friday: 7:30 am – 5:00 pm\nSaturday – Sunday: 8:00 am – 4:30 pm")
HOURS_LONG = ("Thứ Hai – Chủ nhật: 7:30 – 21:00",
              "Monday – Sunday: 7:30 am – 9:00 pm")
HOURS_LAKE = ("Hằng ngày: 7:00 – 21:00\nMở cả ngày lễ, Tết",
              "Daily: 7:00 am – 9:00 pm\nOpen on public holidays and Tết")
HOURS_WAREHOUSE = ("Thứ Hai – Thứ Bảy: 7:30 – 17:00 (không bán lẻ tại kho)",
                   "Monday – Saturday: 7:30 am – 5:00 pm (no retail sales)")

SHOPS = [
    dict(slug="ocop-bac-kan-trung-tam", name="Cửa hàng OCOP Bắc Kạn – Trung tâm thành phố",
         locality="duc-xuan", address="Số 8 đường Trường Chinh, phường Đức Xuân, thành phố Bắc Kạn",
         phone="02093870123", hours=HOURS_LONG, lat="22.147180", lng="105.834620", ships_online=True),
    dict(slug="ocop-bac-kan-song-cau", name="Cửa hàng OCOP Bắc Kạn – Sông Cầu",
         locality="song-cau", address="Số 25 đường Hùng Vương, phường Sông Cầu, thành phố Bắc Kạn",
         phone="02093871456", hours=HOURS_LONG, lat="22.153240", lng="105.829870", ships_online=True),
    dict(slug="ocop-ba-be-ho-ba-be", name="Cửa hàng OCOP Ba Bể (Hồ Ba Bể)",
         locality="nam-mau", address="Khu trung tâm Vườn quốc gia Ba Bể, xã Nam Mẫu, huyện Ba Bể",
         phone="02093894217", hours=HOURS_LAKE, lat="22.405310", lng="105.627480", ships_online=True),
    dict(slug="ocop-ba-be-cho-ra", name="Cửa hàng OCOP Ba Bể – Chợ Rã",
         locality="cho-ra", address="Tiểu khu 5, thị trấn Chợ Rã, huyện Ba Bể",
         phone="02093876335", hours=HOURS_DAY, lat="22.455820", lng="105.726310"),
    dict(slug="ocop-bach-thong", name="Cửa hàng OCOP Bạch Thông",
         locality="phu-thong", address="Tổ 2, thị trấn Phủ Thông, huyện Bạch Thông",
         phone="02093850648", hours=HOURS_DAY, lat="22.270450", lng="105.879120"),
    dict(slug="ocop-cho-don", name="Cửa hàng OCOP Chợ Đồn",
         locality="bang-lung", address="Tổ 4, thị trấn Bằng Lũng, huyện Chợ Đồn",
         phone="02093882579", hours=HOURS_DAY, lat="22.152630", lng="105.598740"),
    dict(slug="ocop-cho-moi", name="Cửa hàng OCOP Chợ Mới",
         locality="dong-tam", address="Tổ 9, thị trấn Đồng Tâm, huyện Chợ Mới",
         phone="02093864790", hours=HOURS_DAY, lat="21.883760", lng="105.776540"),
    dict(slug="ocop-na-ri", name="Cửa hàng OCOP Na Rì",
         locality="yen-lac", address="Tổ 3, thị trấn Yến Lạc, huyện Na Rì",
         phone="02093884152", hours=HOURS_DAY, lat="22.239870", lng="106.088430"),
    dict(slug="ocop-ngan-son", name="Cửa hàng OCOP Ngân Sơn",
         locality="na-phac", address="Tổ 1, thị trấn Nà Phặc, huyện Ngân Sơn",
         phone="02093874608", hours=HOURS_DAY, lat="22.387150", lng="106.012360"),
    dict(slug="ocop-pac-nam", name="Cửa hàng OCOP Pác Nặm",
         locality="boc-bo", address="Thôn Nà Coóc, xã Bộc Bố, huyện Pác Nặm",
         phone="02093893271", hours=HOURS_DAY, lat="22.617920", lng="105.672850"),
    dict(slug="kho-tong-ocop-bac-kan", name="Kho tổng OCOP Bắc Kạn", kind="warehouse",
         locality="huyen-tung", address="Tổ 10, phường Huyền Tụng, thành phố Bắc Kạn",
         phone="02093862904", hours=HOURS_WAREHOUSE, lat="22.171850", lng="105.856230",
         offers_pickup=False, ships_online=True),
]


# ---- helpers ----------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the month's end (31/1 + 1 → 28/2)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _rng(*key) -> random.Random:
    """A generator seeded from the demo seed and a key, so each item's choices never shift."""
    return random.Random(":".join(str(k) for k in (SEED, *key)))


def ean13(first12: str) -> str:
    digits = [int(c) for c in first12]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return first12 + str(check)


def _locality_slugs() -> list[tuple[str, str, str, str | None, str | None]]:
    """(slug, name, kind, parent slug, successor slug), unique slugs, parents first."""
    rows, seen = [], set()
    for name, kind, parent, successor in LOCALITIES:
        slug = slugify(name)
        if slug in seen:
            slug = f"{slug}-{parent}"
        seen.add(slug)
        rows.append((slug, name, kind, parent, successor))
    return rows


def _district_label(locality: Locality | None) -> str:
    """'huyện Na Rì' or 'thành phố Bắc Kạn': the body that gave 3★ before 7/2025."""
    for place in locality.lineage() if locality else []:
        if place.kind == "district":
            return f"huyện {place.name}"
        if place.kind == "city":
            return place.name[0].lower() + place.name[1:]
    return "tỉnh Bắc Kạn"


def _issuer(stars: int, on: date, district: str) -> tuple[str, str, str]:
    """(issuing body, level, decision suffix) for a certificate of ``stars`` issued on ``on``."""
    if stars == 5:
        if on < MINISTRY_MERGED:
            return "Bộ Nông nghiệp và Phát triển nông thôn", "national", "QĐ-BNN-VPĐP"
        return "Bộ Nông nghiệp và Môi trường", "national", "QĐ-BNNMT"
    if on >= PROVINCE_MERGED:
        return "UBND tỉnh Thái Nguyên", "province", "QĐ-UBND"
    if stars == 4:
        return "UBND tỉnh Bắc Kạn", "province", "QĐ-UBND"
    return f"UBND {district}", "district", "QĐ-UBND"


def _score(stars: int, rng: random.Random) -> int:
    low, high = {3: (52, 68), 4: (71, 88), 5: (90, 96)}[stars]
    return rng.randint(low, high)


def _certificate_plan(spec: dict, today: date) -> list[dict]:
    """The certificate history of a product as dicts (oldest first), relative to ``today``."""
    rng = _rng("certificate", spec["name"])
    stars = spec["stars"]
    state = spec.get("cert", "valid")
    plans: list[dict] = []
    if "certs" in spec:
        plans = [dict(c) for c in spec["certs"]]
    elif isinstance(state, tuple) and state[0] == "expiring":
        plans = [dict(stars=stars, kind="new", issued=add_months(today + timedelta(days=state[1]), -VALIDITY_MONTHS))]
    elif state == "expired":
        plans = [dict(stars=stars, kind="new", issued=add_months(today - timedelta(days=40), -VALIDITY_MONTHS))]
    elif state == "revoked":
        plans = [dict(stars=stars, kind="new", issued=add_months(today, -rng.randint(10, 20)),
                      revoked_on=today - timedelta(days=rng.randint(15, 30)))]
    elif spec.get("upgrade_from"):
        plans = [dict(stars=spec["upgrade_from"], kind="new", issued=add_months(today, -rng.randint(26, 33))),
                 dict(stars=stars, kind="upgrade", issued=add_months(today, -rng.randint(3, 12)))]
    else:
        issued = add_months(today, -rng.randint(2, 31)) - timedelta(days=rng.randint(0, 25))
        plans = [dict(stars=stars, kind="new", issued=issued)]

    for plan in plans:
        plan["expires"] = add_months(plan["issued"], VALIDITY_MONTHS)
    if state == "valid":
        # A product meant to be valid is re-recognised before it would lapse (or enter the 60-day
        # warning window), the way a producer applies about a month ahead of expiry.
        while plans[-1]["expires"] < today + timedelta(days=60):
            previous = plans[-1]
            issued = max(previous["issued"] + timedelta(days=1),
                         min(previous["expires"] - timedelta(days=30), today - timedelta(days=7)))
            plans.append(dict(stars=previous["stars"], kind="re_recognition", issued=issued,
                              expires=add_months(issued, VALIDITY_MONTHS)))
    return plans


def _build_certificates(product: Product, spec: dict, today: date) -> list[Certificate]:
    rng = _rng("decision", spec["name"])
    district = _district_label(product.producer.locality)
    plans = _certificate_plan(spec, today)
    certificates = []
    for index, plan in enumerate(plans):
        body, level, suffix = _issuer(plan["stars"], plan["issued"], district)
        latest = index == len(plans) - 1
        cert = Certificate(
            product=product,
            stars=plan["stars"],
            score=plan.get("score") or _score(plan["stars"], rng),
            kind=plan["kind"],
            decision_number=plan.get("decision") or f"{rng.randint(310, 3290)}/{suffix}",  # demo
            issuing_body=body,
            level=level,
            legal_basis=LEGAL_148 if plan["issued"] >= DECISION_148 else LEGAL_1048,
            product_name_certified=product.name,
            producer_name_certified=product.producer.name,
            issued_on=plan["issued"],
            expires_on=plan["expires"],
            status="active" if latest else "superseded",
        )
        if plan.get("revoked_on"):
            cert.status = "revoked"
            cert.revoked_on = plan["revoked_on"]
            cert.revocation_decision = f"{rng.randint(310, 3290)}/QĐ-UBND"  # demo
            cert.revocation_reason = REVOCATION_REASON
        certificates.append(cert)
    return certificates


# ---- seeding ----------------------------------------------------------------------------------

def _by(model, column, keys) -> dict:
    keys = list(keys)
    return {getattr(row, column): row
            for row in db.session.scalars(select(model).where(getattr(model, column).in_(keys)))}


def _seed_localities(made: Counter) -> dict[str, Locality]:
    rows = _locality_slugs()
    places = _by(Locality, "slug", [r[0] for r in rows])
    for slug, name, kind, parent, successor in rows:
        if slug not in places:
            places[slug] = Locality(slug=slug, name=name, kind=kind, parent=places.get(parent),
                                    successor=places.get(successor))
            db.session.add(places[slug])
            made["localities"] += 1
    return places


def _seed_groups(made: Counter) -> dict[str, ProductGroup]:
    groups = _by(ProductGroup, "code", [g[0] for g in PRODUCT_GROUPS])
    position = Counter()
    for code, name, name_en in PRODUCT_GROUPS:
        parent_code = code.rsplit(".", 1)[0] if "." in code else None
        position[parent_code] += 1
        if code not in groups:
            groups[code] = ProductGroup(code=code, slug=slugify(name), name=name, name_en=name_en,
                                        parent=groups.get(parent_code) if parent_code else None,
                                        position=position[parent_code])
            db.session.add(groups[code])
            made["groups"] += 1
    return groups


def _seed_producers(places: dict[str, Locality], made: Counter) -> dict[str, Producer]:
    producers = _by(Producer, "slug", [p["slug"] for p in PRODUCERS])
    for spec in PRODUCERS:
        if spec["slug"] in producers:
            continue
        producers[spec["slug"]] = Producer(
            slug=spec["slug"], name=spec["name"], kind=spec["kind"], locality=places[spec["locality"]],
            address=spec["address"], phone=spec["phone"], story=spec["story"], story_en=spec["story_en"],
            cover_image=_picture_names("producers", spec["slug"])[0],
        )
        db.session.add(producers[spec["slug"]])
        made["producers"] += 1
    return producers


def _seed_products(producers, groups, today: date, made: Counter) -> dict[str, Product]:
    slugs = [slugify(p["name"]) for p in PRODUCTS]
    assert len(set(slugs)) == len(slugs), "demo product slugs must be unique"
    products = _by(Product, "slug", slugs)
    producer_index = {p["slug"]: i for i, p in enumerate(PRODUCERS, start=1)}
    item_index: Counter = Counter()
    for spec, slug in zip(PRODUCTS, slugs):
        item_index[spec["producer"]] += 1
        if slug in products:
            continue
        barcode = None
        if spec.get("weight") is not None:  # services have no barcode
            barcode = ean13(f"893{producer_index[spec['producer']]:04d}{item_index[spec['producer']]:05d}")  # demo
        product = Product(
            producer=producers[spec["producer"]], group=groups[spec["group"]], slug=slug,
            name=spec["name"], name_en=spec["name_en"], description=spec["description"],
            description_en=spec["description_en"], unit=spec["unit"], unit_en=spec["unit_en"],
            price=spec["price"], barcode=barcode, weight_grams=spec.get("weight"),
            image=_picture_names("products", slug)[0], listed=True,
        )
        db.session.add(product)
        products[slug] = product
        made["products"] += 1
    db.session.flush()

    with_certificates = set(db.session.scalars(
        select(Certificate.product_id).where(Certificate.product_id.in_([p.id for p in products.values()]))
    ))
    for spec, slug in zip(PRODUCTS, slugs):
        product = products[slug]
        if product.id in with_certificates:
            continue
        certificates = _build_certificates(product, spec, today)
        db.session.add_all(certificates)
        made["certificates"] += len(certificates)
    return products


def _seed_shops(places: dict[str, Locality], made: Counter) -> dict[str, Shop]:
    shops = _by(Shop, "slug", [s["slug"] for s in SHOPS])
    for spec in SHOPS:
        if spec["slug"] in shops:
            continue
        shops[spec["slug"]] = Shop(
            slug=spec["slug"], name=spec["name"], kind=spec.get("kind", "shop"), address=spec["address"],
            locality=places[spec["locality"]], phone=spec["phone"],
            opening_hours=spec["hours"][0], opening_hours_en=spec["hours"][1],
            latitude=Decimal(spec["lat"]), longitude=Decimal(spec["lng"]),
            offers_pickup=spec.get("offers_pickup", True), ships_online=spec.get("ships_online", False),
            active=True,
        )
        db.session.add(shops[spec["slug"]])
        made["shops" if spec.get("kind", "shop") == "shop" else "warehouses"] += 1
    return shops


def _home_shop(producer_spec: dict, places: dict[str, Locality]) -> str | None:
    """The OCOP shop of the producer's own district (local products are sold locally)."""
    lineage = {p.slug for p in places[producer_spec["locality"]].lineage()}
    for spec in SHOPS:
        if spec.get("kind", "shop") != "shop":
            continue
        shop_place = places[spec["locality"]]
        district = next((p.slug for p in shop_place.lineage() if p.kind in ("district", "city")), None)
        if district in lineage:
            return spec["slug"]
    return None


def _stock_plan(places: dict[str, Locality]) -> list[tuple[str, str, int]]:
    """(shop slug, product slug, quantity) for the opening stock; deterministic."""
    retail = [s["slug"] for s in SHOPS if s.get("kind", "shop") == "shop"]
    online = [s["slug"] for s in SHOPS if s.get("ships_online") and s.get("kind", "shop") == "shop"]
    warehouse = next(s["slug"] for s in SHOPS if s.get("kind") == "warehouse")
    producer_specs = {p["slug"]: p for p in PRODUCERS}
    plan: list[tuple[str, str, int]] = []
    for spec in PRODUCTS:
        slug = slugify(spec["name"])
        rng = _rng("stock", slug)
        profile = spec.get("stock", "wide")
        if profile == "none":
            continue
        if isinstance(profile, tuple) and profile[0] == "rooms":
            plan.append(("ocop-ba-be-ho-ba-be", slug, profile[1]))
            continue
        home = _home_shop(producer_specs[spec["producer"]], places)
        if isinstance(profile, tuple) and profile[0] == "shops":
            chosen = list(profile[1])
        elif profile == "narrow":
            chosen = [home or rng.choice(retail)]
            if rng.random() < 0.5:
                chosen.append(rng.choice([s for s in retail if s not in chosen]))
        else:
            chosen = rng.sample(retail, rng.randint(4, 8))
            if home and home not in chosen:
                chosen.append(home)
            if spec.get("online"):
                chosen += [s for s in online if s not in chosen]
        for shop in chosen:
            if profile == "narrow" or (profile == "wide" and rng.random() < 0.15):
                qty = rng.randint(1, 3)  # low stock
            else:
                qty = rng.randint(6, 40)
            if spec.get("online") and shop in online:
                qty = max(qty, rng.randint(15, 40))
            plan.append((shop, slug, qty))
        if profile == "wide" and (spec.get("online") or rng.random() < 0.8):
            plan.append((warehouse, slug, rng.randint(30, 120)))
    return plan


def _seed_stock(shops, products, places, made: Counter) -> None:
    db.session.flush()  # ids for new shops and products
    stocked = set(db.session.execute(
        select(StockMovement.shop_id, StockMovement.product_id)
        .where(StockMovement.product_id.in_([p.id for p in products.values()]))
        .distinct()
    ).all())
    for shop_slug, product_slug, qty in _stock_plan(places):
        shop, product = shops[shop_slug], products[product_slug]
        if (shop.id, product.id) in stocked:
            continue  # this shop already has a ledger for the product: never add opening stock twice
        receive(shop.id, product.id, qty, note=OPENING_NOTE)
        stocked.add((shop.id, product.id))
        made["receipts"] += 1


# Version 2 of the demo pictures carries no text (see shop/seed/images.py). Rows that still point
# at a version 1 picture (text drawn on it) are moved to the new file, which is drawn if missing.
PICTURES_VERSION = 2


def _picture_names(folder: str, slug: str) -> tuple[str, str]:
    """(current file name, the version 1 name) of a demo picture, relative to UPLOAD_FOLDER."""
    return f"{folder}/{slug}-v{PICTURES_VERSION}.jpg", f"{folder}/{slug}.jpg"


def _ensure_pictures(producers, products, today: date, made: Counter) -> None:
    """Draw the demo pictures that are missing on disk (rows keep pointing at them).

    A picture a shop replaced (any other file name) is left alone.
    """
    root = Path(current_app.config["UPLOAD_FOLDER"])
    for spec in PRODUCERS:
        producer = producers[spec["slug"]]
        expected, legacy = _picture_names("producers", spec["slug"])
        if producer.cover_image is None or producer.cover_image == legacy:
            producer.cover_image = expected
        if producer.cover_image == expected and not (root / expected).is_file():
            images.cover_picture(root / expected, scene=spec.get("scene", "terraces"), seed=spec["slug"])
            made["pictures"] += 1
    for spec in PRODUCTS:
        slug = slugify(spec["name"])
        product = products[slug]
        expected, legacy = _picture_names("products", slug)
        if product.image is None or product.image == legacy:
            product.image = expected
        if product.image == expected and not (root / expected).is_file():
            images.product_picture(root / expected, unit=product.unit,
                                   group_code=product.group.code if product.group else spec["group"],
                                   seed=slug)
            made["pictures"] += 1


def seed_demo() -> str:
    """Load the Bắc Kạn demo catalogue, creating only what is missing, and commit.

    Returns a one-line summary of what was created.
    """
    today = today_vn()
    made: Counter = Counter()
    places = _seed_localities(made)
    groups = _seed_groups(made)
    producers = _seed_producers(places, made)
    # Flush the places first: the search hook walks a product's places by id when the product is
    # flushed, and rows without ids yet would be cut from its search text.
    db.session.flush()
    products = _seed_products(producers, groups, today, made)
    shops = _seed_shops(places, made)
    _seed_stock(shops, products, places, made)
    db.session.flush()
    _ensure_pictures(producers, products, today, made)
    db.session.commit()

    created = {k: v for k, v in made.items() if k != "pictures"}
    pictures = f"; {made['pictures']} pictures drawn" if made["pictures"] else ""
    if not any(created.values()):
        return "Demo catalogue already present: nothing to do" + pictures
    return (
        f"Seeded: {made['localities']} localities, {made['groups']} product groups, "
        f"{made['producers']} producers, {made['products']} products, {made['certificates']} certificates, "
        f"{made['shops']} shops, {made['warehouses']} warehouse; {made['receipts']} stock receipts"
        + pictures
    )
