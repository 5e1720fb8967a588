"""The lists a new program starts with; the team edits them under /admin/taxonomies."""

PRODUCTS = ["Analytics Cloud", "Payments Gateway", "Identity Suite", "Data Platform", "Mobile SDK"]

USE_CASES = [
    "Cost reduction",
    "Customer experience",
    "Fraud prevention",
    "Regulatory compliance",
    "Cloud migration",
    "Process automation",
    "Reporting and BI",
    "Security and access",
]

INDUSTRIES = [
    "Agriculture",
    "Education",
    "Energy and utilities",
    "Financial services",
    "Food and beverage",
    "Healthcare",
    "Manufacturing",
    "Media and entertainment",
    "Mining",
    "Public sector",
    "Retail",
    "Software",
    "Telecommunications",
    "Transport and logistics",
]

# key, name, description, weight (decides the cool-down), the consent it needs (SPEC §4)
ACTIVITY_TYPES = [
    ("reference_call", "Reference call", "A 30-minute call with a prospect considering the product.", "light", "reference_calls"),
    ("case_study", "Case study", "A written or video story of your results, reviewed by you before publication.", "heavy", "case_study"),
    ("quote", "Quote or testimonial", "A sentence or two about your experience, for web or print.", "light", "quote"),
    ("logo", "Logo use", "Your company's logo on our website or in presentations.", "light", "logo"),
    ("speaking", "Speaking", "A talk or panel at an event.", "heavy", "speaking"),
    ("webinar", "Webinar", "An online session with our team, about an hour.", "heavy", "speaking"),
    ("media", "Media or PR", "An interview with a journalist or a press release quote.", "heavy", "media"),
    ("analyst", "Analyst interview", "A conversation with an industry analyst firm.", "heavy", "media"),
    ("peer_review", "Peer review", "A review on a platform such as G2 or Gartner Peer Insights.", "light", "peer_review"),
    ("advisory_board", "Advisory board", "Membership of a customer advisory board.", "light", "advisory_board"),
    ("site_visit", "Site visit", "Prospects visit your site to see the product in use.", "heavy", "reference_calls"),
    ("product_feedback", "Product feedback", "A survey, interview or early access to new features.", "light", None),
]

# name, parent, ISO 3166-1 alpha-2 codes of the countries directly in it
REGIONS = [
    ("Americas", None, []),
    ("North America", "Americas", ["US", "CA", "MX"]),
    ("Latin America", "Americas", []),
    ("Central America", "Latin America", ["BZ", "CR", "SV", "GT", "HN", "NI", "PA"]),
    ("South America", "Latin America", ["AR", "BO", "BR", "CL", "CO", "EC", "GY", "PY", "PE", "SR", "UY", "VE"]),
    ("Caribbean", "Latin America", ["CU", "DO", "HT", "JM", "PR", "TT", "BS", "BB"]),
    ("EMEA", None, []),
    ("Europe", "EMEA", []),
    ("DACH", "Europe", ["DE", "AT", "CH"]),
    ("Nordics", "Europe", ["DK", "FI", "IS", "NO", "SE"]),
    ("Benelux", "Europe", ["BE", "NL", "LU"]),
    ("UK and Ireland", "Europe", ["GB", "IE"]),
    ("Southern Europe", "Europe", ["ES", "IT", "PT", "GR", "MT", "CY"]),
    ("Western Europe", "Europe", ["FR", "MC"]),
    ("Central and Eastern Europe", "Europe", ["PL", "CZ", "SK", "HU", "RO", "BG", "HR", "SI", "EE", "LV", "LT", "UA"]),
    ("Middle East", "EMEA", ["AE", "SA", "QA", "KW", "BH", "OM", "IL", "JO", "TR"]),
    ("Africa", "EMEA", ["ZA", "NG", "KE", "EG", "MA", "GH", "TN", "ET"]),
    ("APAC", None, []),
    ("East Asia", "APAC", ["JP", "KR", "CN", "TW", "HK"]),
    ("Southeast Asia", "APAC", ["SG", "MY", "TH", "VN", "PH", "ID"]),
    ("South Asia", "APAC", ["IN", "PK", "BD", "LK"]),
    ("Australia and New Zealand", "APAC", ["AU", "NZ"]),
]
