"""Word lists and mix tables behind the sandbox data generator: countries, cities, names, company words,
titles, messages, and the shares that decide how often each kind of lead appears.

Plain data only; `sandbox.arrays` turns it into arrays once at import.
"""

from __future__ import annotations

from leadrouter.validate import vocabularies

REGION_SHARE = {"NA": 0.45, "EMEA": 0.30, "APAC": 0.15, "LATAM": 0.10}

# --- mix tables (weights need not sum to 100) -----------------------------------------------------------
CATEGORY_SHARE = {
    "sales": 55,
    "support": 10,
    "jobs": 6,
    "partnership": 6,
    "press": 3,
    "research": 7,
    "spam": 13,
}
DUPLICATE_SHARE = {"sales": 60, "support": 35, "partnership": 5}  # what known contacts write in about
MALFORMED_SHARE = [35, 25, 25, 15]  # bad email, missing company, junk person, negative headcount
ACCOUNT_SHARE = {"sales": 0.30, "support": 0.85, "jobs": 0.05, "partnership": 0.15, "spam": 0.02}
LEAD_SOURCES = list(vocabularies.LEAD_SOURCES)
# per message group: free-mail share, then weights over LEAD_SOURCES
GROUP_MIX = {
    "sales_intent": (0.11, [30, 15, 10, 0, 0, 5, 20, 20]),
    "sales_content": (0.24, [0, 5, 0, 50, 30, 15, 0, 0]),  # ebook and webinar leads without buying intent
    "support": (0.12, [0, 60, 40, 0, 0, 0, 0, 0]),
    "partnership": (0.08, [0, 70, 10, 0, 0, 20, 0, 0]),
    "press": (0.25, [0, 85, 0, 0, 0, 15, 0, 0]),
    "jobs": (0.85, [0, 80, 20, 0, 0, 0, 0, 0]),
    "spam": (0.55, [10, 60, 20, 0, 0, 0, 0, 10]),
    "research": (0.45, [0, 50, 20, 30, 0, 0, 0, 0]),  # the rest write from their university
    "junk": (0.50, [5, 80, 10, 0, 0, 0, 0, 5]),
}
# per category, weights over LEVELS (student intern junior ic manager senior_manager director head vp svp
# clevel founder press); "contact" is the mix of existing CRM contacts
LEVEL_SHARE = {
    "sales": [0, 2, 6, 22, 18, 7, 13, 7, 9, 2, 7, 7, 0],
    "support": [0, 0, 15, 40, 25, 5, 8, 3, 2, 0, 1, 1, 0],
    "partnership": [0, 0, 0, 10, 20, 5, 20, 10, 10, 0, 10, 15, 0],
    "press": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    "jobs": [25, 15, 20, 35, 5, 0, 0, 0, 0, 0, 0, 0, 0],
    "spam": [0, 0, 10, 30, 30, 0, 0, 0, 0, 0, 10, 20, 0],
    "research": [85, 5, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    "contact": [0, 0, 8, 25, 22, 8, 15, 6, 8, 2, 4, 2, 0],
}
# email local parts, weighted for company mail, mail at a known account (its first.last habit), free mail
LOCAL_PARTS = {
    "{f}.{l}": (55, 85, 25),
    "{fi}{l}": (15, 5, 0),
    "{f}": (8, 2, 0),
    "{f}{l}": (8, 2, 10),
    "{f}_{l}": (4, 2, 5),
    "{l}.{f}": (4, 2, 0),
    "{f}.{li}": (6, 2, 0),
    "{f}.{l}{nn}": (0, 0, 35),
    "{f}{l}{nn}": (0, 0, 25),
}
WEBSITES = {"https://www.{d}": 50, "www.{d}": 20, "{d}": 15, "http://{d}": 8, "https://{d}/": 7}
# how the country is written on the form: ISO code, English name, a variant (USA, Deutschland), blank
COUNTRY_STYLE = [58, 22, 13, 7]

# code | name | region | weight in region | name culture | tlds | legal suffixes | dial code | phone style
# | variants people type
COUNTRIES = """
US|United States|NA|85|en|.com|Inc,LLC,Inc.,Corp,Co.|1|nanp|USA,U.S.,United States of America,America,usa
CA|Canada|NA|15|en|.ca,.com|Inc,Ltd,Corp|1|nanp|CAN,canada
GB|United Kingdom|EMEA|22|en|.co.uk,.com|Ltd,Limited,PLC|44|gb|UK,U.K.,England,Great Britain
DE|Germany|EMEA|20|de|.de,.com|GmbH,AG,GmbH & Co. KG|49|de|Deutschland,germany,DEU
FR|France|EMEA|12|fr|.fr,.com|SAS,SA,SARL|33|fr|france,FRA
NL|Netherlands|EMEA|8|nl|.nl,.com|BV,B.V.,NV|31|trunk|Holland,The Netherlands
ES|Spain|EMEA|6|es|.es,.com|S.L.,S.A.|34|notrunk|España,spain
IT|Italy|EMEA|5|it|.it,.com|S.r.l.,S.p.A.|39|notrunk|Italia
SE|Sweden|EMEA|5|nordic|.se,.com|AB|46|trunk|Sverige
CH|Switzerland|EMEA|4|de|.ch,.com|AG,GmbH,SA|41|de|Schweiz,Suisse
IE|Ireland|EMEA|4|en|.ie,.com|Ltd,DAC|353|trunk|Republic of Ireland
PL|Poland|EMEA|4|pl|.pl,.com|sp. z o.o.,S.A.|48|notrunk|Polska
BE|Belgium|EMEA|3|fr|.be,.com|BV,SA,NV|32|trunk|Belgique,België
DK|Denmark|EMEA|3|nordic|.dk,.com|ApS,A/S|45|notrunk|Danmark
AE|United Arab Emirates|EMEA|3|ar|.ae,.com|LLC,FZ-LLC|971|trunk|UAE
ZA|South Africa|EMEA|3|en|.co.za,.com|(Pty) Ltd|27|trunk|RSA
IL|Israel|EMEA|2|en|.co.il,.com|Ltd|972|trunk|
AT|Austria|EMEA|3|de|.at,.com|GmbH,AG|43|de|Österreich
NO|Norway|EMEA|2|nordic|.no,.com|AS|47|notrunk|Norge
FI|Finland|EMEA|2|nordic|.fi,.com|Oy|358|trunk|Suomi
AU|Australia|APAC|25|en|.com.au,.com|Pty Ltd,Pty. Ltd.|61|au|AUS,australia
JP|Japan|APAC|20|ja|.co.jp,.jp,.com|K.K.,Co. Ltd.,Inc.|81|jp|JPN,Nippon
IN|India|APAC|20|hi|.in,.co.in,.com|Pvt Ltd,Private Limited|91|trunk|IND,Bharat
SG|Singapore|APAC|12|zh|.sg,.com.sg,.com|Pte Ltd,Pte. Ltd.|65|sg|SGP
CN|China|APAC|8|zh|.cn,.com.cn|Co. Ltd.|86|trunk|PRC,People's Republic of China
KR|South Korea|APAC|6|ko|.co.kr,.kr|Co. Ltd.,Inc.|82|trunk|Korea,Republic of Korea
NZ|New Zealand|APAC|5|en|.co.nz,.com|Ltd,Limited|64|trunk|Aotearoa
HK|Hong Kong|APAC|4|zh|.com.hk,.hk|Limited,Ltd|852|sg|HKG
BR|Brazil|LATAM|40|pt|.com.br|Ltda.,S.A.,Ltda|55|br|Brasil,brazil
MX|Mexico|LATAM|25|es|.com.mx,.mx|S.A. de C.V.,S. de R.L.|52|notrunk|México,mexico
AR|Argentina|LATAM|10|es|.com.ar|S.A.,S.R.L.|54|trunk|argentina
CO|Colombia|LATAM|10|es|.com.co,.co|S.A.S.|57|notrunk|colombia
CL|Chile|LATAM|10|es|.cl,.com|SpA,S.A.|56|notrunk|chile
PE|Peru|LATAM|5|es|.pe,.com.pe|S.A.C.|51|trunk|Perú
"""

# country | city | state code | state name | area code
CITIES = """
US|San Francisco|CA|California|415
US|New York|NY|New York|212
US|Austin|TX|Texas|512
US|Chicago|IL|Illinois|312
US|Seattle|WA|Washington|206
US|Boston|MA|Massachusetts|617
US|Denver|CO|Colorado|303
US|Atlanta|GA|Georgia|404
US|Miami|FL|Florida|305
US|Raleigh|NC|North Carolina|919
US|Columbus|OH|Ohio|614
US|Salt Lake City|UT|Utah|801
CA|Toronto|ON|Ontario|416
CA|Vancouver|BC|British Columbia|604
CA|Montreal|QC|Quebec|514
CA|Calgary|AB|Alberta|403
GB|London|||20
GB|Manchester|||161
GB|Birmingham|||121
GB|Edinburgh|||131
GB|Bristol|||117
DE|Berlin|||30
DE|München|||89
DE|Hamburg|||40
DE|Frankfurt am Main|||69
DE|Köln|||221
FR|Paris|||1
FR|Lyon|||4
FR|Toulouse|||5
FR|Lille|||3
NL|Amsterdam|||20
NL|Rotterdam|||10
NL|Utrecht|||30
NL|Eindhoven|||40
ES|Madrid|||91
ES|Barcelona|||93
ES|Valencia|||96
IT|Milano|||02
IT|Roma|||06
IT|Torino|||011
SE|Stockholm|||8
SE|Göteborg|||31
SE|Malmö|||40
CH|Zürich|||44
CH|Genève|||22
CH|Basel|||61
IE|Dublin|||1
IE|Cork|||21
PL|Warszawa|||22
PL|Kraków|||12
BE|Brussels|||2
BE|Antwerp|||3
BE|Ghent|||9
DK|Copenhagen|||33
DK|Aarhus|||86
AE|Dubai|||4
AE|Abu Dhabi|||2
ZA|Johannesburg|||11
ZA|Cape Town|||21
IL|Tel Aviv|||3
IL|Jerusalem|||2
AT|Wien|||1
AT|Graz|||316
NO|Oslo|||22
NO|Bergen|||55
FI|Helsinki|||9
FI|Espoo|||9
AU|Sydney|NSW|New South Wales|2
AU|Melbourne|VIC|Victoria|3
AU|Brisbane|QLD|Queensland|7
AU|Perth|WA|Western Australia|8
JP|Tokyo|||3
JP|Osaka|||6
JP|Yokohama|||45
JP|Fukuoka|||92
IN|Bengaluru|||80
IN|Mumbai|||22
IN|New Delhi|||11
IN|Hyderabad|||40
IN|Pune|||20
SG|Singapore|||6
CN|Shanghai|||21
CN|Beijing|||10
CN|Shenzhen|||755
KR|Seoul|||2
KR|Busan|||51
NZ|Auckland|||9
NZ|Wellington|||4
HK|Hong Kong|||2
BR|São Paulo|SP|São Paulo|11
BR|Rio de Janeiro|RJ|Rio de Janeiro|21
BR|Belo Horizonte|MG|Minas Gerais|31
BR|Curitiba|PR|Paraná|41
BR|Porto Alegre|RS|Rio Grande do Sul|51
MX|Ciudad de México|CDMX|Ciudad de México|55
MX|Monterrey|NL|Nuevo León|81
MX|Guadalajara|JAL|Jalisco|33
AR|Buenos Aires|||11
AR|Córdoba|||351
CO|Bogotá|||601
CO|Medellín|||604
CL|Santiago|||2
CL|Valparaíso|||32
PE|Lima|||1
PE|Arequipa|||54
"""

# phone formats per style; {cc} dial code, {area} city code, {dN} digit groups
PHONE_FORMATS = {
    "nanp": [
        "+1 {area}-{d3}-{d4}",
        "({area}) {d3} {d4}",
        "({area}) {d3}-{d4}",
        "{area}.{d3}.{d4}",
        "+1{area}{d3}{d4}",
        "{area}-{d3}-{d4}",
        "+1 ({area}) {d3}-{d4}",
    ],
    "gb": ["+44 {area} {d4} {d4b}", "0{area} {d4} {d4b}", "+44 (0){area} {d4} {d4b}", "0{area}{d4}{d4b}"],
    "de": ["+{cc} {area} {d7}", "0{area} {d7}", "+{cc} ({area}) {d3} {d4}", "0{area}/{d7}"],
    "fr": [
        "+{cc} {area} {d2} {d2b} {d2c} {d2d}",
        "0{area} {d2} {d2b} {d2c} {d2d}",
        "0{area}{d2}{d2b}{d2c}{d2d}",
    ],
    "au": ["+{cc} {area} {d4} {d4b}", "(0{area}) {d4} {d4b}", "0{area} {d4} {d4b}"],
    "jp": ["+{cc} {area}-{d4}-{d4b}", "0{area}-{d4}-{d4b}", "0{area} {d4} {d4b}"],
    "br": ["+{cc} {area} 9{d4}-{d4b}", "({area}) 9{d4}-{d4b}", "+{cc} ({area}) 9{d4}{d4b}"],
    "trunk": ["+{cc} {area} {d3} {d4}", "0{area} {d3} {d4}", "+{cc} {area} {d7}", "0{area}-{d3}-{d4}"],
    "notrunk": ["+{cc} {area} {d3} {d4}", "{area} {d3} {d4}", "+{cc}{area}{d7}"],
    "sg": ["+{cc} {d4} {d4b}", "{d4} {d4b}", "+{cc}{d4}{d4b}"],
}

NAMES = {  # culture: (first names, last names); an underscore joins a name's words (van_Dijk)
    "en": (
        """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
        Susan Joseph Jessica Thomas Sarah Chris Karen Daniel Emily Matthew Ashley Andrew Megan Ryan
        Rachel Kevin Laura Brian Olivia Ethan Hannah Liam Chloe Noah Grace Tyler Madison""",
        """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
        Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill
        Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards
        Collins Stewart Murphy Cook Rogers O'Brien Kelly Hughes Price Bennett Wood Barnes Sullivan
        Foster Harper Cole""",
    ),
    "de": (
        """Lukas Anna Felix Lena Jonas Marie Leon Sophie Maximilian Laura Paul Julia Tim Sarah Jan
        Katharina Niklas Hannah Tobias Lea Florian Johanna Stefan Sabine Thomas Claudia Andreas Petra
        Jürgen Ursula""",
        """Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer
        Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange
        Werner Krause Lehmann Köhler Bergmann""",
    ),
    "fr": (
        """Louis Camille Hugo Léa Lucas Manon Jules Chloé Arthur Inès Gabriel Sarah Nathan Julie Théo
        Émilie Antoine Claire Mathieu Céline François Amélie Pierre Margaux Jean-Pierre Anaïs""",
        """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre
        Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier Dupont Lambert
        Bonnet Fontaine""",
    ),
    "es": (
        """Santiago Sofía Mateo Valentina Sebastián Isabella Diego Camila Alejandro Lucía Daniel María
        Javier Martina Carlos Paula Andrés Gabriela Pablo Daniela Luis Fernanda Miguel Carmen Jorge Ana""",
        """García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz
        Hernández Díaz Moreno Álvarez Romero Navarro Torres Domínguez Vázquez Ramos Castro Ortiz Rubio
        Morales Herrera Medina Vargas Rojas""",
    ),
    "pt": (
        """João Maria Pedro Ana Lucas Beatriz Gabriel Juliana Rafael Fernanda Matheus Larissa Gustavo
        Camila Felipe Mariana Thiago Letícia Bruno Aline Rodrigo Patrícia Vinícius Carolina""",
        """Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins
        Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira
        Nunes""",
    ),
    "it": (
        """Lorenzo Giulia Francesco Sofia Alessandro Aurora Leonardo Martina Matteo Chiara Andrea Giorgia
        Marco Federica Luca Elena Giuseppe Francesca Davide Alessia""",
        """Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De_Luca
        Mancini Costa Giordano Rizzo Lombardi Moretti""",
    ),
    "nl": (
        """Daan Emma Sem Julia Lucas Sophie Milan Tess Levi Anna Bram Fleur Thijs Lotte Ruben Sanne Jeroen
        Eva Pieter Femke""",
        """de_Jong Jansen de_Vries van_den_Berg van_Dijk Bakker Janssen Visser Smit Meijer de_Boer Mulder
        de_Groot Bos Vos Peters Hendriks van_Leeuwen Dekker Brouwer""",
    ),
    "nordic": (
        """Erik Anna Lars Emma Johan Sara Magnus Ingrid Oskar Astrid Nils Elin Henrik Maja Anders Freja
        Mikkel Sofie Jukka Aino""",
        """Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsen Hansen Jensen Nielsen Pedersen
        Lindqvist Berg Haugen Virtanen Korhonen Lindberg Dahl Holm Bakke""",
    ),
    "pl": (
        """Jakub Zuzanna Kacper Julia Szymon Maja Jan Zofia Filip Hanna Michał Katarzyna Piotr Agnieszka
        Tomasz Magdalena""",
        """Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
        Dąbrowski Kozłowski Jankowski Mazur""",
    ),
    "ja": (
        """Haruto Yui Sota Hina Yuto Aoi Riku Sakura Kenji Yuki Takumi Mei Hiroshi Emi Daiki Naoko Kenta
        Ayaka Shota Misaki""",
        """Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada Sasaki
        Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Mori""",
    ),
    "zh": (
        """Wei Fang Jing Lei Min Hao Xin Yan Jun Li Ming Ying Tao Hui Chen Lin Yu Mei Jie Qiang""",
        """Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Tan Lim Ng
        Goh Lee""",
    ),
    "ko": (
        """Min-jun Seo-yeon Ji-ho Ha-eun Do-yun Ji-woo Seo-jun Su-ah Joon-ho Yuna Hyun-woo Ji-min""",
        """Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Han Oh Shin""",
    ),
    "hi": (
        """Aarav Priya Vivaan Ananya Aditya Diya Arjun Isha Rohan Kavya Rahul Pooja Vikram Neha Sanjay
        Anjali Karthik Deepa Amit Sneha""",
        """Sharma Patel Singh Kumar Gupta Reddy Iyer Nair Mehta Shah Rao Joshi Verma Chopra Das Menon
        Pillai Agarwal Banerjee Desai""",
    ),
    "ar": (
        """Mohammed Fatima Ahmed Aisha Omar Layla Ali Mariam Yousef Noor Khalid Sara Hassan Huda Ibrahim
        Rania""",
        """Al_Mansouri Al_Hashimi Haddad Khoury Nasser Saleh Hamdan Al_Farsi Rahman Aziz Karim Mansour""",
    ),
}

INDUSTRIES = {  # weight, revenue per employee (USD)
    "Software": (18, 220_000),
    "Financial Services": (10, 350_000),
    "Healthcare": (9, 130_000),
    "Manufacturing": (11, 250_000),
    "Retail": (9, 180_000),
    "Education": (5, 80_000),
    "Logistics": (7, 200_000),
    "Media": (6, 160_000),
    "Telecommunications": (5, 400_000),
    "Energy": (5, 600_000),
    "Government": (4, 110_000),
    "Professional Services": (11, 150_000),
}

# the noun after a company's brand, per industry; localised lists for de/fr/es/pt-speaking countries
NOUNS = {
    "Software": {
        "en": "Analytics,Software,Systems,Technologies,Labs,Cloud,Data,Digital",
        "de": "Software,Systeme,Technologie,Digital",
        "fr": "Logiciels,Technologies,Numérique",
        "es": "Tecnologías,Sistemas,Software",
        "pt": "Tecnologia,Sistemas,Software",
    },
    "Financial Services": {
        "en": "Capital,Financial,Payments,Asset Management,Insurance,Wealth",
        "de": "Finanz,Kapital,Versicherung",
        "fr": "Finance,Capital,Assurances",
        "es": "Finanzas,Capital,Seguros",
        "pt": "Finanças,Capital,Seguros",
    },
    "Healthcare": {
        "en": "Health,Medical,Clinics,Diagnostics,Care,Pharma",
        "de": "Medizintechnik,Gesundheit,Pharma",
        "fr": "Santé,Médical,Pharma",
        "es": "Salud,Médica,Farma",
        "pt": "Saúde,Médica,Farma",
    },
    "Manufacturing": {
        "en": "Manufacturing,Industries,Components,Machinery,Materials,Fabrication",
        "de": "Maschinenbau,Industrie,Werke,Technik",
        "fr": "Industries,Mécanique",
        "es": "Industrias,Manufacturas",
        "pt": "Indústrias,Metalúrgica",
    },
    "Retail": {
        "en": "Retail,Goods,Outfitters,Market,Stores,Brands",
        "de": "Handel,Markt",
        "fr": "Distribution,Commerce",
        "es": "Comercial,Tiendas",
        "pt": "Comércio,Lojas",
    },
    "Education": {
        "en": "Learning,Academy,Education,Institute",
        "de": "Akademie,Bildung",
        "fr": "Formation,Académie",
        "es": "Educación,Academia",
        "pt": "Educação,Academia",
    },
    "Logistics": {
        "en": "Logistics,Freight,Shipping,Transport",
        "de": "Logistik,Spedition,Transport",
        "fr": "Logistique,Transports",
        "es": "Logística,Transportes",
        "pt": "Logística,Transportes",
    },
    "Media": {
        "en": "Media,Studios,Publishing,Broadcasting,Creative",
        "de": "Medien,Verlag",
        "fr": "Médias,Éditions",
        "es": "Medios,Producciones",
        "pt": "Mídia,Produções",
    },
    "Telecommunications": {
        "en": "Telecom,Networks,Communications,Wireless,Connect",
        "de": "Telekom,Netze",
        "fr": "Télécom,Réseaux",
        "es": "Telecomunicaciones,Redes",
        "pt": "Telecom,Redes",
    },
    "Energy": {
        "en": "Energy,Power,Solar,Renewables,Utilities",
        "de": "Energie,Solar,Stadtwerke",
        "fr": "Énergie,Solaire",
        "es": "Energía,Solar",
        "pt": "Energia,Solar",
    },
    "Government": {
        "en": "City Council,Transit Authority,Water Authority,Public Library,Housing Agency,Port Authority",
    },
    "Professional Services": {
        "en": "Consulting,Partners,Advisory,Group,Associates,Solutions",
        "de": "Beratung,Consulting,Partner",
        "fr": "Conseil,Partenaires",
        "es": "Consultores,Asesores",
        "pt": "Consultoria,Assessoria",
    },
}

BRANDS = (
    "Northwind Bluepeak Summit Redwood Silverline Ironclad Brightpath Clearwater Evergreen Granite Harbor "
    "Keystone Lakeside Meridian Oakridge Pinnacle Quantum Riverbend Sterling Trailhead Vantage Westbrook "
    "Beacon Cobalt Crescent Falcon Horizon Juniper Lighthouse Maple Nimbus Orion Polaris Sequoia Tidewater "
    "Vertex Willow Zenith Apex Atlas Aurora Cedar Copper Delta Echo Ember Fjord Glacier Helix Ivory Kestrel "
    "Lumen Magnolia Nova Onyx Prairie Quarry Raven Sable Tundra Vista Wren Alder Basalt Cypress Driftwood "
    "Fernhill Goldcrest Highland Ironwood Larkspur Moonstone Northstar Pinecrest Redstone Stonebridge"
)
BRAND_HEADS = (
    "Veri Data Cloud Opti Syn Nex Inno Flex Zen Hyper Omni Pro Intel Logi Medi Fin Tera Astra Lumi Cyber "
    "Vita Sol Geo Bio Quant Stream Pulse Core Blue Bright Smart True Net Tek Ever Ultra Octa Arc Kine Vela"
)
BRAND_TAILS = (
    "ly ify io ex ix ora eon wise hub base works stack scale logic sphere path point grid flow mind forge "
    "bridge line sync nova tech ware metrics gen lab"
)
DOMAIN_VARIANTS = ["{h}group", "get{h}", "{h}hq", "try{h}", "{h}-global", "{h}online", "the{h}", "{h}inc"]

# name | domain | country | city | state
UNIVERSITIES = """
University of Michigan|umich.edu|US|Ann Arbor|MI
Stanford University|stanford.edu|US|Stanford|CA
New York University|nyu.edu|US|New York|NY
University of Texas at Austin|utexas.edu|US|Austin|TX
Georgia Institute of Technology|gatech.edu|US|Atlanta|GA
University of Toronto|utoronto.ca|CA|Toronto|ON
McGill University|mcgill.ca|CA|Montreal|QC
University of Leeds|leeds.ac.uk|GB|Leeds|
University of Manchester|manchester.ac.uk|GB|Manchester|
London School of Economics|lse.ac.uk|GB|London|
Technische Universität München|tum.de|DE|München|
Universität Heidelberg|uni-heidelberg.de|DE|Heidelberg|
Humboldt-Universität zu Berlin|hu-berlin.de|DE|Berlin|
Sorbonne Université|sorbonne-universite.fr|FR|Paris|
TU Delft|tudelft.nl|NL|Delft|
ETH Zürich|ethz.ch|CH|Zürich|
Universidad Complutense de Madrid|ucm.es|ES|Madrid|
Politecnico di Milano|polimi.it|IT|Milano|
KTH Royal Institute of Technology|kth.se|SE|Stockholm|
University of Sydney|sydney.edu.au|AU|Sydney|NSW
University of Melbourne|unimelb.edu.au|AU|Melbourne|VIC
University of Tokyo|u-tokyo.ac.jp|JP|Tokyo|
National University of Singapore|nus.edu.sg|SG|Singapore|
IIT Bombay|iitb.ac.in|IN|Mumbai|
Universidade de São Paulo|usp.br|BR|São Paulo|SP
UNAM|unam.mx|MX|Ciudad de México|CDMX
Universidad de Buenos Aires|uba.ar|AR|Buenos Aires|
University of Cape Town|uct.ac.za|ZA|Cape Town|
"""

# fictional outlets: name | domain | country
OUTLETS = """
SaaS Weekly|saasweekly.com|US
The Revenue Desk|revenuedesk.io|US
TechLedger|techledger.news|GB
B2B Growth Podcast|b2bgrowthpodcast.com|US
Cloud Business Review|cloudbizreview.com|US
Digitale Wirtschaft|digitale-wirtschaft.de|DE
Le Journal du SaaS|journaldusaas.fr|FR
Startup Daily Asia|startupdaily.asia|SG
Mercado Tech|mercadotech.com.br|BR
Nordic Tech Review|nordictechreview.se|SE
The Pipeline Show|pipelineshow.fm|GB
Sales Leaders Podcast|salesleaderspod.com|CA
"""

SPAM_ORGS = """
RankBoost Media|rankboost.biz
Top SEO Experts|topseo-experts.net
LinkJuice Pro|linkjuicepro.xyz
CoinYield Capital|coinyield.io
Growth Hackers United|growthhackersunited.online
WebTraffic4U|webtraffic4u.net
Premium Backlinks Ltd|premium-backlinks.co
Lead Gen Masters|leadgenmasters.top
CryptoMax|cryptomax.biz
"""

# every provider here is in leadrouter.enrich.email.FREE_MAIL_DOMAINS
FREE_MAIL = {
    "*": "gmail.com:50,outlook.com:14,yahoo.com:12,hotmail.com:10,icloud.com:9,proton.me:3,aol.com:2",
    "DE": "gmx.de:30,web.de:25,t-online.de:10,gmail.com:35",
    "AT": "gmx.net:30,gmail.com:70",
    "GB": "gmail.com:55,hotmail.co.uk:20,yahoo.co.uk:15,outlook.com:10",
    "FR": "gmail.com:50,orange.fr:20,free.fr:15,hotmail.fr:15",
    "JP": "yahoo.co.jp:45,gmail.com:55",
    "CN": "qq.com:60,163.com:25,gmail.com:15",
    "KR": "naver.com:60,gmail.com:40",
    "BR": "gmail.com:60,hotmail.com:20,bol.com.br:10,uol.com.br:10",
    "IT": "gmail.com:60,libero.it:40",
}
PLUS_TAGS = ["webinar", "news", "trial", "crm", "sales", "work", "leads", "ebook"]

LEVELS = [
    "student",
    "intern",
    "junior",
    "ic",
    "manager",
    "senior_manager",
    "director",
    "head",
    "vp",
    "svp",
    "clevel",
    "founder",
    "press",
]
SENIOR = ["head", "vp", "svp", "clevel", "founder"]
JUNIOR = ["student", "intern", "junior"]

TITLES = {
    "student": [
        "Student",
        "PhD Student",
        "Graduate Student",
        "MBA Candidate",
        "Master's Student",
        "Undergraduate Student",
        "PhD Candidate",
        "student",
    ],
    "intern": ["{F} Intern", "Intern", "Summer Intern, {F}", "Working Student"],
    "junior": [
        "{F} Coordinator",
        "{F} Assistant",
        "Junior {F} Associate",
        "Executive Assistant",
        "{F} Associate",
    ],
    "ic": [
        "{F} Analyst",
        "Senior {F} Analyst",
        "Software Engineer",
        "Senior Software Engineer",
        "Data Engineer",
        "{F} Specialist",
        "Account Executive",
        "Solutions Consultant",
        "Developer",
        "Business Analyst",
        "Systems Administrator",
    ],
    "manager": ["{F} Manager", "Manager, {F}", "{F} Team Lead", "Mgr, {F}", "Product Manager"],
    "senior_manager": ["Senior {F} Manager", "Sr. Manager, {F}", "Senior Manager {F}", "Group Manager, {F}"],
    "director": [
        "Director of {F}",
        "{F} Director",
        "Dir. of {F}",
        "Director, {F}",
        "Senior Director, {F}",
        "Sr Dir {F}",
    ],
    "head": ["Head of {F}", "Global Head of {F}", "Head, {F}", "Head of {F} EMEA"],
    "vp": ["VP {F}", "VP of {F}", "Vice President, {F}", "Vice President of {F}", "VP, {F}", "{F} VP"],
    "svp": ["SVP {F}", "Senior Vice President, {F}", "EVP, {F}", "SVP of {F}"],
    "clevel": [
        "CEO",
        "Chief Executive Officer",
        "CTO",
        "Chief Technology Officer",
        "CFO",
        "CRO",
        "Chief Revenue Officer",
        "CMO",
        "Chief Marketing Officer",
        "COO",
        "CIO",
        "Chief Information Officer",
        "President",
    ],
    "founder": ["Founder", "Co-Founder", "Founder & CEO", "Owner", "Co-founder and CTO", "Managing Director"],
    "press": [
        "Journalist",
        "Reporter",
        "Senior Reporter",
        "Editor",
        "Editor-in-Chief",
        "Contributing Writer",
        "Podcast Host",
        "Tech Correspondent",
    ],
}
FUNCTIONS = [
    "Sales",
    "Marketing",
    "IT",
    "Engineering",
    "Operations",
    "Finance",
    "RevOps",
    "Revenue Operations",
    "Sales Operations",
    "Growth",
    "Data",
    "Product",
    "Customer Success",
    "Procurement",
    "People",
    "Business Development",
    "Demand Generation",
]

# each message is one template from each slot, joined; "" makes a slot optional
OPENERS = ["", "", "", "Hi,", "Hello,", "Hi there,", "Hello team,", "Good morning,", "Hey,"]
CLOSERS = ["", "", "", "Thanks!", "Best, {first}", "Cheers", "Thanks in advance.", "Regards, {first} {last}"]
# buyers who write in their own language: country -> (language, share of its sales requests written in it, the
# requests); the rest write in English
NATIVE_SALES: dict[str, tuple[str, float, list[str]]] = {
    "JP": ("ja", 0.6, [
        "営業部の部長です。{seats}ユーザー分の料金のお見積もりをお願いします。",
        "エンタープライズプランの価格について、日本語でご説明いただけますでしょうか。",
        "問い合わせを担当者に自動で振り分ける仕組みを探しています。デモをお願いできますか。",
    ]),
    "CN": ("zh", 0.5, ["您好，我们想了解企业版的价格，{seats}个用户，请尽快联系我。", "我们正在评估销售线索分配工具，希望安排一次产品演示。"]),
    "DE": ("de", 0.35, [
        "Wir benötigen ein Angebot für {seats} Lizenzen und eine Produktvorführung.",
        "Bitte rufen Sie mich wegen der Preise für die Unternehmensversion zurück.",
    ]),
    "AT": ("de", 0.35, ["Wir hätten gerne ein Angebot für {seats} Benutzer, bitte melden Sie sich bei uns."]),
    "FR": ("fr", 0.35, [
        "Nous souhaitons recevoir un devis pour {seats} utilisateurs et organiser une démonstration.",
        "Pouvez-vous me rappeler au sujet des tarifs de l'offre entreprise ?",
    ]),
    "ES": ("es", 0.35, ["Queremos una cotización para {seats} licencias y una demostración del producto."]),
    "MX": ("es", 0.45, ["¿Pueden llamarme para hablar de los precios del plan empresarial para {seats} usuarios?"]),
    "BR": ("pt", 0.5, [
        "Gostaríamos de receber uma proposta para {seats} licenças e agendar uma demonstração.",
        "Vocês podem me ligar para falar sobre os preços do plano empresarial?",
    ]),
    "IT": ("it", 0.35, ["Vorremmo un preventivo per {seats} licenze e una dimostrazione del prodotto."]),
}  # fmt: skip

MESSAGES: dict[str, list[list[str]]] = {
    "sales_intent": [
        OPENERS,
        [
            "We'd like a demo of {product} for our {team} team.",
            "Can you send pricing for {seats} seats?",
            "Looking for a quote for {seats} users on the {plan} plan.",
            "We're evaluating vendors for {usecase} and {product} is on our shortlist.",
            "We currently use {competitor} and are looking to switch.",
            "How does {product} compare to {competitor}?",
            "Please contact me about an enterprise license for {seats} users.",
            "Our {team} team of {seats} needs {usecase}. What would it cost?",
            "Would love to see how {product} works with {integration}.",
            "Requesting a demo.",
            "Interested in the {plan} plan, can someone walk me through it?",
            "We get about {volume} inbound leads a month and need {usecase}.",
            "Started a free trial and want to talk about rolling it out to {seats} people.",
            "We're hiring fast and need a better way to handle {usecase}.",
            "Our current tool keeps crashing under load, looking to replace it.",
            "Need a proposal for {company} by {deadline}.",
        ],
        [
            "",
            "",
            "We have {seats} reps across {regions} regions.",
            "Must integrate with {integration}.",
            "Security review (SOC 2) will be required.",
            "Budget is approved.",
            "We need SSO and audit logs.",
            "Looking at {competitor} as well.",
        ],
        [
            "",
            "",
            "We need this live before {quarter}.",
            "Evaluating vendors this week.",
            "Our contract with {competitor} ends in {month}.",
            "Decision by end of month.",
            "No rush, just exploring options.",
            "Timeline is {weeks} weeks.",
            "Please call me ASAP.",
            "Urgent: board meeting on {day}.",
        ],
        CLOSERS,
    ],
    # content downloads without buying intent: never demo/pricing/quote/buy words
    "sales_content": [
        [
            "Please send me the {asset}.",
            "Looking forward to the webinar.",
            "Just curious.",
            "Interested in the {asset}.",
            "Can I get the slides?",
            "Saving this for later.",
            "Met your team at {event}.",
            "Great session on {topic}!",
            "Send me the recording please.",
            "thx",
        ]
    ],
    "support": [
        OPENERS,
        [
            "I can't log in to my account since this morning.",
            "Our integration with {integration} stopped syncing {when}.",
            "We were charged twice on invoice {invoice}.",
            "Getting {error} when exporting reports.",
            "The password reset email never arrives.",
            "The dashboard is broken after the last update.",
            "Please update the VAT number on our billing account.",
            "Found a bug: the {feature} page crashes when I {action}.",
            "How do I add a new user? Our admin left the company.",
            "Our account is locked.",
            "Leads are not being assigned anymore, is there an outage?",
            "Webhook deliveries fail with {error}.",
            "Can I get a refund for the unused seats?",
        ],
        [
            "",
            "",
            "This is blocking {seats} users.",
            "Ticket #{ticket} has had no reply.",
            "Please help urgently.",
            "We are on the {plan} plan.",
            "Already tried clearing the cache.",
            "Company: {company}, on the {plan} plan.",
        ],
        CLOSERS,
    ],
    "jobs": [
        OPENERS,
        [
            "I'd like to apply for the {role} role.",
            "Are you hiring {role}s in {city}?",
            "Please find my resume attached for the {role} position.",
            "I'm interested in career opportunities at your company.",
            "Do you offer internships in {team}?",
            "I saw the {role} opening on LinkedIn and would love to apply.",
            "Is the {role} job still open?",
            "Sending my CV for any open positions in {team}.",
        ],
        [
            "",
            "",
            "I have {years} years of experience in {team}.",
            "Happy to relocate.",
            "I can start in {month}.",
        ],
        CLOSERS,
    ],
    "partnership": [
        OPENERS,
        [
            "We're an agency working with {clients} B2B clients and would like to become a reseller.",
            "We'd like to explore a partnership: our customers keep asking for {product}.",
            "Do you have a referral program for consultants?",
            "We're a reseller in {region} looking to add {product} to our portfolio.",
            "Co-marketing idea: a joint webinar on {topic}?",
            "Do you offer white-label options for agencies?",
            "We build {integration} apps and want to become an integration partner.",
            "Interested in your partner program.",
        ],
        ["", "", "We have {clients} active clients in {region}.", "Happy to share our partner deck."],
        CLOSERS,
    ],
    "press": [
        OPENERS,
        [
            "I'm a journalist at {company} writing a story about {topic}.",
            "Would your CEO be available for an interview with {company}?",
            "We'd love to have you on our podcast to talk about {topic}.",
            "Reporter here: do you have a press kit?",
            "I'm working on an article about {topic}, deadline {day}.",
            "Our magazine is compiling a list of top {usecase} tools.",
        ],
        [
            "",
            "",
            "Happy to send questions in advance.",
            "The piece runs in {month}.",
            "We reach {clients}k readers.",
        ],
        CLOSERS,
    ],
    "research": [
        OPENERS,
        [
            "I'm a student at {company} writing my thesis on {topic}.",
            "Could you fill in a short academic survey ({minutes} min) for my research project?",
            "For my thesis I'd like to interview someone on your sales team.",
            "Course project: is there a free student license?",
            "I'm researching {topic} for my dissertation.",
            "Our university class is studying {usecase}, could we use {product} for a semester?",
        ],
        [
            "",
            "",
            "My supervisor is Prof. {last}.",
            "Responses are anonymous.",
            "It would really help my research.",
        ],
        CLOSERS,
    ],
    "spam": [
        [
            "We can get your website to rank #1 on Google. Cheap SEO packages!",
            "Boost your traffic with high quality backlinks, link building from ${price}.",
            "Guest post opportunity on DA {da} sites, reply for prices.",
            "Earn {pct}% a month with our crypto trading bot!!!",
            "Invest in bitcoin today, guaranteed returns.",
            "Hello dear, I have a business proposal for you.",
            "{gibberish}",
            "Buy 10,000 followers cheap!!!",
            "Loan offer at 2% interest, reply now.",
            "Your website has {n} SEO issues. Let us fix them.",
            "Congratulations, you won a $1,000 gift card: {gibberish}",
        ],
        ["", "", "Click here: http://{spamlink}", "Limited offer!!!", "Reply STOP to unsubscribe."],
    ],
    "junk": [["test", "asdf", "{gibberish}", "...", "qwerty", "test test test"]],
}

# fillers for the message placeholders; {first} {last} {company} {city} {gibberish} come from the lead
FILLERS = {
    "product": "your platform|the Routing add-on|the Analytics module|your API|the Enterprise edition|"
    "your tool",
    "plan": "Starter|Growth|Pro|Business|Enterprise",
    "seats": "3|5|10|12|20|25|40|50|75|100|150|250|500|1,000|2,000",
    "competitor": "Pipewise|Salesloop|Acumen CRM|Zentro|RouteIQ|LeadSpark|our in-house tool|spreadsheets",
    "quarter": "Q1|Q2|Q3|Q4|the end of the quarter|our fiscal year end",
    "month": "January|February|March|April|May|June|July|August|September|October|November|December",
    "weeks": "2|3|4|6|8",
    "integration": "Salesforce|HubSpot|Slack|Snowflake|NetSuite|Zendesk|Marketo|Microsoft Dynamics|Pipedrive",
    "usecase": "lead routing|territory management|round-robin assignment|pipeline analytics|inbound "
    "qualification|account matching|SLA tracking|sales automation",
    "team": "sales|marketing|RevOps|SDR|customer success|IT|operations|growth",
    "volume": "500|2,000|5,000|10,000|50,000",
    "regions": "2|3|4|5",
    "deadline": "Friday|the end of the month|next week|March 31",
    "day": "Friday|Monday|Thursday|tomorrow",
    "asset": "ebook|State of Inbound report|ROI calculator|benchmark report|whitepaper|playbook|checklist",
    "event": "SaaStr|Dreamforce|Web Summit|the Berlin meetup|your roadshow|the trade show",
    "topic": "AI in sales|lead routing|speed to lead|RevOps|sales automation|B2B marketing|the future of CRM",
    "error": "a 500 Internal Server Error|a 403 Forbidden error|a timeout error|error ERR_SYNC_401|"
    'an "invalid token" error',
    "invoice": "INV-20931|INV-11842|INV-30077|INV-48815",
    "ticket": "48213|51977|60342|73120",
    "feature": "reports|settings|user management|import|dashboard",
    "action": "export to CSV|filter by owner|upload a file|change the date range",
    "when": "yesterday|since Monday|after the last release|two days ago|this morning",
    "role": "SDR|Account Executive|Customer Success Manager|Data Analyst|Software Engineer|"
    "Solutions Engineer",
    "years": "1|2|3|5|7|10",
    "clients": "15|30|40|120|200",
    "region": "DACH|the Nordics|Benelux|LATAM|Southeast Asia|the UK|Australia|the Midwest",
    "minutes": "5|10|15",
    "price": "49|99|149",
    "da": "50|70|90",
    "pct": "200|300|500",
    "n": "37|58|112",
    "spamlink": "bit.ly/3xYz9Q|cheap-seo.top/offer|crypto-gains.biz/join",
}

# malformed rows
BAD_EMAILS = [
    "{f}.{l}@",
    "no-email",
    "{f}@@{domain}",
    "x@y",
    "{f}.{l}@{head}",
    "{f} {l}@gmail.com",
    "{f}.{l}.{domain}",
    "n/a",
    "{f}.{l}@gmail",
]
JUNK_FIRST = ["asdf", "test", "qwerty", "xxx", "aaa", "Test", "a"]
JUNK_LAST = ["asdf", "test", "qwerty", "xxx", "sdfsdf", "Test", "b"]
JUNK_EMAILS = [
    "asdf@asdf.com",
    "test@test.com",
    "qwerty@qwerty.com",
    "a@a.com",
    "test@example.com",
    "xxx@gmail.com",
]
JUNK_COMPANIES = ["asdf", "test", "n/a", "xxx", "-", "none"]
