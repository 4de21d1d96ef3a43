//! Name normalisation: Unicode NFKC, case folding, transliteration to Latin,
//! spelling folds that make transliteration schemes converge, tokenisation,
//! legal-form and honorific recognition.

use pinyin::ToPinyin;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longest name (in characters) that is normalised; the rest is ignored.
///
/// Names on real lists are far shorter; the cap bounds the work per name.
pub const MAX_NAME_CHARS: usize = 512;

/// One normalised part of a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// The folded Latin spelling ("dilian", "malyshev").
    pub text: String,
    /// The consonant skeleton used to compare across scripts without vowels.
    pub skeleton: String,
    /// True when the token came from a script that omits short vowels
    /// (Arabic), so only its skeleton is meaningful.
    pub abjad: bool,
    /// The Latin spelling before folding ("intellexa", "malyschew"), shown
    /// in explanations.
    pub shown: String,
}

impl Token {
    /// Builds a token from an already folded Latin spelling.
    pub fn new(text: String, abjad: bool) -> Token {
        Token::with_shown(text.clone(), text, abjad)
    }

    /// Builds a token from its folded spelling and the spelling shown to users.
    pub fn with_shown(text: String, shown: String, abjad: bool) -> Token {
        let skeleton = skeleton(&text);
        Token {
            text,
            skeleton,
            abjad,
            shown,
        }
    }
}

/// The canonical legal form of a company, recognised in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegalForm {
    /// Canonical short code ("sa", "ltd", "gmbh").
    pub code: &'static str,
    /// Human-readable name of the form.
    pub label: &'static str,
    /// The family of forms it belongs to (joint-stock, limited liability …).
    pub family: &'static str,
}

/// A name after normalisation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NormName {
    /// The original spelling, as given.
    pub original: String,
    /// The name parts, without legal forms and honorifics.
    pub tokens: Vec<Token>,
    /// Legal forms found in the name.
    pub legal_forms: Vec<LegalForm>,
}

/// Whether a name is read as a person's or an organisation's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Given and family names; honorifics are dropped.
    Person,
    /// Organisation names; legal forms are recognised.
    Organisation,
    /// Unknown: both honorifics and legal forms are recognised.
    Any,
}

/// Normalises a name for matching.
pub fn normalise(name: &str, kind: NameKind) -> NormName {
    let mut tokens = to_latin(name);
    let mut legal_forms = Vec::new();
    if kind != NameKind::Person {
        join_initials(&mut tokens);
        legal_forms = extract_legal_forms(&mut tokens);
    }
    if kind != NameKind::Organisation {
        tokens.retain(|t| !HONORIFICS.contains(&t.text.as_str()));
    }
    NormName {
        original: name.chars().take(MAX_NAME_CHARS).collect(),
        tokens,
        legal_forms,
    }
}

/// Joins runs of single letters ("g m b h" from "G.m.b.H.") into one part,
/// so dotted abbreviations meet their undotted spelling.
fn join_initials(tokens: &mut Vec<Token>) {
    let single = |t: &Token| {
        !t.abjad && t.text.chars().count() == 1 && t.text.chars().all(|c| c.is_ascii_alphabetic())
    };
    if !tokens.iter().any(single) {
        return;
    }
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut run = String::new();
    let mut shown = String::new();
    for t in tokens.drain(..) {
        if single(&t) {
            run.push_str(&t.text);
            shown.push_str(&t.shown);
            continue;
        }
        if !run.is_empty() {
            out.push(Token::with_shown(
                std::mem::take(&mut run),
                std::mem::take(&mut shown),
                false,
            ));
        }
        out.push(t);
    }
    if !run.is_empty() {
        out.push(Token::with_shown(run, shown, false));
    }
    *tokens = out;
}

/// Transliterates and folds a name to Latin tokens; each token carries
/// whether it came from an abjad script.
pub fn to_latin(name: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut cur = String::new();
    let mut cur_abjad = false;
    let flush = |cur: &mut String, abjad: bool, out: &mut Vec<Token>| {
        if !cur.is_empty() {
            split_arabic_article(cur, abjad, out);
            cur.clear();
        }
    };
    let pre = replace_han_legal_forms(name);
    let chars: Vec<char> = pre
        .nfkc()
        .take(MAX_NAME_CHARS)
        .flat_map(char::to_lowercase)
        .collect();
    // Strip diacritics per character, except where the accented letter is
    // a letter of its own in transliteration (Cyrillic ё, й).
    let decomposed: Vec<char> = chars
        .iter()
        .map(|&c| {
            if cyrillic(c).is_some() {
                c
            } else {
                std::iter::once(c).nfd().next().unwrap_or(c)
            }
        })
        .collect();
    let mut i = 0;
    while i < decomposed.len() {
        let c = decomposed[i];
        let next = decomposed.get(i + 1).copied();
        if is_combining_mark(c) {
            i += 1;
            continue;
        }
        if let Some(py) = c.to_pinyin() {
            // Each Han character is one syllable: a token of its own.
            flush(&mut cur, cur_abjad, &mut out);
            out.push(Token::with_shown(
                fold_latin(py.plain()),
                py.plain().to_string(),
                false,
            ));
            i += 1;
            continue;
        }
        if let Some((s, used)) = greek(c, next) {
            cur.push_str(s);
            i += used;
            continue;
        }
        if let Some(s) = cyrillic(c) {
            cur.push_str(s);
            i += 1;
            continue;
        }
        if let Some(s) = arabic(c) {
            if !cur_abjad && !cur.is_empty() {
                flush(&mut cur, cur_abjad, &mut out);
            }
            cur_abjad = true;
            cur.push_str(s);
            i += 1;
            continue;
        }
        if c.is_alphanumeric() {
            if cur_abjad && !cur.is_empty() {
                flush(&mut cur, cur_abjad, &mut out);
            }
            cur_abjad = false;
            match c {
                'ß' => cur.push_str("ss"),
                'ø' => cur.push('o'),
                'æ' => cur.push_str("ae"),
                'œ' => cur.push_str("oe"),
                'ł' => cur.push('l'),
                'đ' | 'ð' => cur.push('d'),
                'þ' => cur.push_str("th"),
                'ı' => cur.push('i'),
                _ if c.is_ascii() => cur.push(c),
                _ => {}
            }
            i += 1;
            continue;
        }
        // Apostrophes inside a name (O'Brien, Ta'if) join; all else splits.
        if c == '\'' || c == '’' || c == 'ʼ' || c == 'ʻ' {
            i += 1;
            continue;
        }
        flush(&mut cur, cur_abjad, &mut out);
        cur_abjad = false;
        i += 1;
    }
    flush(&mut cur, cur_abjad, &mut out);
    out
}

fn split_arabic_article(raw: &str, abjad: bool, out: &mut Vec<Token>) {
    let mut push = |raw: &str, abjad: bool| {
        let folded = fold_latin(raw);
        if !folded.is_empty() {
            out.push(Token::with_shown(folded, raw.to_string(), abjad));
        }
    };
    if abjad && raw.len() > 4 && raw.starts_with("al") {
        push("al", false);
        push(&raw[2..], true);
    } else {
        push(raw, abjad);
    }
}

/// Han legal forms are replaced before transliteration, since a syllable
/// sequence like "you xian gong si" would otherwise look like a name.
fn replace_han_legal_forms(name: &str) -> std::borrow::Cow<'_, str> {
    const FORMS: &[(&str, &str)] = &[
        ("股份有限公司", " co ltd "),
        ("有限责任公司", " co ltd "),
        ("有限公司", " co ltd "),
        ("集团", " group "),
        ("公司", " co "),
    ];
    if !name.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut s = name.to_string();
    for (han, latin) in FORMS {
        s = s.replace(han, latin);
    }
    std::borrow::Cow::Owned(s)
}

/// Folds a Latin spelling so that common transliteration schemes (English,
/// German, French) and spelling variants converge: w→v, ph→f, q→k, tsch→ch,
/// sch→sh, j→y, x→ks, doubled letters collapse, -iy/-ii/-ij → -y.
pub fn fold_latin(s: &str) -> String {
    let mut t = s.to_string();
    for (from, to) in [
        ("schtsch", "shch"),
        ("tsch", "ch"),
        ("sch", "sh"),
        ("ph", "f"),
        ("ck", "k"),
        ("w", "v"),
        ("q", "k"),
        ("x", "ks"),
        ("j", "y"),
        ("dzh", "y"),
        // Scientific transliteration writes ц as c ("Kudrjavceva").
        ("ts", "c"),
    ] {
        if t.contains(from) {
            t = t.replace(from, to);
        }
    }
    for ending in ["iy", "ii", "yy", "yi"] {
        if t.len() > 3 && t.ends_with(ending) {
            t.truncate(t.len() - 2);
            t.push('y');
            break;
        }
    }
    let mut out = String::with_capacity(t.len());
    let mut prev = '\0';
    for c in t.chars() {
        if c != prev || c.is_ascii_digit() {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// The consonant skeleton: vowels and semivowels dropped, doubled letters
/// collapsed ("mohammed" → "mhmd").
pub fn skeleton(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        if matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'w') {
            continue;
        }
        if c != prev {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn cyrillic(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "yo",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'ї' => "yi",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' => "",
        'ы' => "y",
        'ь' => "",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        'ђ' => "d",
        'ј' => "y",
        'љ' => "l",
        'њ' => "n",
        'ћ' => "c",
        'џ' => "d",
        'ѓ' => "g",
        'ќ' => "k",
        'ѕ' => "dz",
        _ => return None,
    })
}

/// Greek to Latin (ELOT 743 style); returns the Latin text and how many
/// input characters were consumed (digraphs take two).
fn greek(c: char, next: Option<char>) -> Option<(&'static str, usize)> {
    let pair = match (c, next) {
        ('ο', Some('υ')) => Some("ou"),
        ('α', Some('υ')) => Some("av"),
        ('ε', Some('υ')) => Some("ev"),
        ('μ', Some('π')) => Some("b"),
        ('ν', Some('τ')) => Some("nt"),
        ('γ', Some('γ')) => Some("ng"),
        ('γ', Some('κ')) => Some("gk"),
        _ => None,
    };
    if let Some(p) = pair {
        return Some((p, 2));
    }
    let s = match c {
        'α' => "a",
        'β' => "v",
        'γ' => "g",
        'δ' => "d",
        'ε' => "e",
        'ζ' => "z",
        'η' => "i",
        'θ' => "th",
        'ι' => "i",
        'κ' => "k",
        'λ' => "l",
        'μ' => "m",
        'ν' => "n",
        'ξ' => "x",
        'ο' => "o",
        'π' => "p",
        'ρ' => "r",
        'σ' | 'ς' => "s",
        'τ' => "t",
        'υ' => "y",
        'φ' => "f",
        'χ' => "ch",
        'ψ' => "ps",
        'ω' => "o",
        _ => return None,
    };
    Some((s, 1))
}

fn arabic(c: char) -> Option<&'static str> {
    Some(match c {
        'ا' | 'أ' | 'إ' | 'آ' | 'ى' => "a",
        'ب' => "b",
        'ت' => "t",
        'ث' => "th",
        'ج' => "j",
        'ح' => "h",
        'خ' => "kh",
        'د' => "d",
        'ذ' => "dh",
        'ر' => "r",
        'ز' => "z",
        'س' => "s",
        'ش' => "sh",
        'ص' => "s",
        'ض' => "d",
        'ط' => "t",
        'ظ' => "z",
        'ع' | 'ء' | 'ئ' | 'ؤ' => "",
        'غ' => "gh",
        'ف' => "f",
        'ق' => "q",
        'ك' | 'ک' => "k",
        'ل' => "l",
        'م' => "m",
        'ن' => "n",
        'ه' | 'ة' => "h",
        'و' => "w",
        'ي' | 'ی' => "y",
        'پ' => "p",
        'چ' => "ch",
        'گ' => "g",
        'ژ' => "zh",
        _ => return None,
    })
}

/// Honorifics and titles dropped from person names.
const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "lord", "lady", "herr", "frau", "mme",
    "mlle", "sheikh", "shaikh", "sheik", "hayi", "hadzhi", "gen", "col", "capt", "rev",
];

struct FormDef {
    spellings: &'static [&'static str],
    form: LegalForm,
}

const fn lf(code: &'static str, label: &'static str, family: &'static str) -> LegalForm {
    LegalForm {
        code,
        label,
        family,
    }
}

const JOINT_STOCK: &str = "joint-stock company";
const LIMITED: &str = "limited-liability company";
const CORP: &str = "corporation";
const PARTNERSHIP: &str = "partnership";

/// Legal forms across languages; spellings are normalised with the same
/// pipeline as names, so "S.A.", "SA" and "Société Anonyme" all meet.
const FORMS: &[FormDef] = &[
    FormDef {
        spellings: &[
            "sa",
            "s a",
            "societe anonyme",
            "sociedad anonima",
            "sociedade anonima",
            "societa anonima",
            "naamloze vennootschap",
            "nv",
            "n v",
            "spolka akcyjna",
        ],
        form: lf("sa", "Société Anonyme", JOINT_STOCK),
    },
    FormDef {
        spellings: &["ae", "a e", "anonymi etaireia", "anonymos etaireia"],
        form: lf("ae", "Anonymi Etaireia", JOINT_STOCK),
    },
    FormDef {
        spellings: &["ag", "aktiengesellschaft"],
        form: lf("ag", "Aktiengesellschaft", JOINT_STOCK),
    },
    FormDef {
        spellings: &["spa", "societa per azioni"],
        form: lf("spa", "Società per Azioni", JOINT_STOCK),
    },
    FormDef {
        spellings: &[
            "jsc",
            "joint stock company",
            "oao",
            "ao",
            "pao",
            "zao",
            "ojsc",
            "cjsc",
            "pjsc",
            "aktsionernoe obshchestvo",
            "publichnoe aktsionernoe obshchestvo",
            "zakrytoe aktsionernoe obshchestvo",
            "otkrytoe aktsionernoe obshchestvo",
        ],
        form: lf("jsc", "Joint-Stock Company (AO/PAO/ZAO)", JOINT_STOCK),
    },
    FormDef {
        spellings: &["ad", "a d", "ead", "aktsionerno druzhestvo"],
        form: lf("ad", "Aktsionerno Druzhestvo", JOINT_STOCK),
    },
    FormDef {
        spellings: &[
            "zrt",
            "crt",
            "nyrt",
            "rt",
            "zartkoruen mukodo reszvenytarsasag",
            "nyilvanosan mukodo reszvenytarsasag",
        ],
        form: lf("zrt", "Zártkörűen Működő Részvénytársaság", JOINT_STOCK),
    },
    FormDef {
        spellings: &["as", "a s", "asa", "ab", "oy", "oyj"],
        form: lf("as", "Aksjeselskap / Akciová společnost", JOINT_STOCK),
    },
    FormDef {
        spellings: &[
            "anonim sirketi",
            "anonim sirket",
            "akciova spolecnost",
            "aksjeselskap",
            "aktieselskab",
            "aktiebolag",
            "osakeyhtio",
            "julkinen osakeyhtio",
        ],
        form: lf(
            "as",
            "Anonim Şirketi / Aktiebolag / Osakeyhtiö",
            JOINT_STOCK,
        ),
    },
    FormDef {
        spellings: &[
            "sas",
            "sasu",
            "societe par actions simplifiee",
            "societe par actions simplifiee unipersonnelle",
        ],
        form: lf("sas", "Société par Actions Simplifiée", JOINT_STOCK),
    },
    FormDef {
        spellings: &["kk", "kabushiki kaisha", "kabushiki gaisha", "godo kaisha"],
        form: lf("kk", "Kabushiki Kaisha", JOINT_STOCK),
    },
    FormDef {
        spellings: &["plc", "public limited company"],
        form: lf("plc", "Public Limited Company", JOINT_STOCK),
    },
    FormDef {
        spellings: &[
            "ltd",
            "limited",
            "co ltd",
            "co limited",
            "company limited",
            "company ltd",
            "pte ltd",
            "pte limited",
            "private limited",
            "pty ltd",
            "pvt ltd",
            "limited sirketi",
            "ltd sti",
        ],
        form: lf("ltd", "Limited", LIMITED),
    },
    FormDef {
        spellings: &[
            "llc",
            "l l c",
            "limited liability company",
            "fz llc",
            "fzllc",
            "fze",
            "fzco",
            "dac",
            "designated activity company",
        ],
        form: lf("llc", "Limited Liability Company", LIMITED),
    },
    FormDef {
        spellings: &[
            "ooo",
            "obshchestvo s ogranichennoy otvetstvennostyu",
            "too",
            "tov",
        ],
        form: lf(
            "ooo",
            "Obshchestvo s Ogranichennoy Otvetstvennostyu (OOO)",
            LIMITED,
        ),
    },
    FormDef {
        spellings: &[
            "gmbh",
            "gesellschaft mit beschrankter haftung",
            "gesellschaft mit beschraenkter haftung",
            "ges m b h",
        ],
        form: lf("gmbh", "Gesellschaft mit beschränkter Haftung", LIMITED),
    },
    FormDef {
        spellings: &[
            "sarl",
            "s a r l",
            "societe a responsabilite limitee",
            "eurl",
        ],
        form: lf("sarl", "Société à Responsabilité Limitée", LIMITED),
    },
    FormDef {
        spellings: &[
            "srl",
            "s r l",
            "sl",
            "s l",
            "societa a responsabilita limitata",
            "sociedad limitada",
            "sociedad de responsabilidad limitada",
            "lda",
            "ltda",
        ],
        form: lf(
            "srl",
            "Società a Responsabilità Limitata / Sociedad Limitada",
            LIMITED,
        ),
    },
    FormDef {
        spellings: &[
            "bv",
            "b v",
            "besloten vennootschap",
            "besloten vennootschap met beperkte aansprakelijkheid",
            "bvba",
        ],
        form: lf("bv", "Besloten Vennootschap", LIMITED),
    },
    FormDef {
        spellings: &["kft", "korlatolt felelossegu tarsasag"],
        form: lf("kft", "Korlátolt Felelősségű Társaság", LIMITED),
    },
    FormDef {
        spellings: &[
            "sp z o o",
            "spolka z ograniczona odpowiedzialnoscia",
            "spzoo",
        ],
        form: lf("spzoo", "Spółka z ograniczoną odpowiedzialnością", LIMITED),
    },
    FormDef {
        spellings: &[
            "ood",
            "eood",
            "doo",
            "d o o",
            "dooel",
            "sro",
            "s r o",
            "spolecnost s rucenim omezenym",
            "spolocnost s rucenim obmedzenym",
            "drustvo s ogranicenom odgovornoscu",
        ],
        form: lf("ood", "Limited-liability company (OOD/DOO/s.r.o.)", LIMITED),
    },
    FormDef {
        spellings: &["inc", "incorporated", "corp", "corporation"],
        form: lf("inc", "Incorporated", CORP),
    },
    FormDef {
        spellings: &[
            "lp",
            "llp",
            "l p",
            "l l p",
            "kg",
            "gmbh co kg",
            "ohg",
            "snc",
        ],
        form: lf("lp", "Partnership", PARTNERSHIP),
    },
];

/// A legal form's spelling as folded parts and as the parts' spelling
/// before folding.
type FormSpelling = (Vec<String>, Vec<String>);

fn form_table() -> &'static Vec<(FormSpelling, LegalForm)> {
    static TABLE: std::sync::OnceLock<Vec<(FormSpelling, LegalForm)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut v: Vec<(FormSpelling, LegalForm)> = FORMS
            .iter()
            .flat_map(|d| d.spellings.iter().map(move |s| (form_spelling(s), d.form)))
            .collect();
        // Longest spellings first so "co ltd" wins over "ltd".
        v.sort_by_key(|b| std::cmp::Reverse(b.0 .0.len()));
        v
    })
}

/// Removes legal-form token runs from `tokens` and returns the forms found.
///
/// A lone name is never emptied: a company called "AG" keeps its token.
fn extract_legal_forms(tokens: &mut Vec<Token>) -> Vec<LegalForm> {
    let table = form_table();
    let mut forms = Vec::new();
    let mut keep = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let hit = table.iter().find(|((folded, shown), _)| {
            i + folded.len() <= tokens.len()
                && folded
                    .iter()
                    .zip(shown)
                    .zip(&tokens[i..])
                    .all(|((f, s), t)| form_part_matches(f, s, t))
        });
        match hit {
            Some(((spell, _), form)) => {
                if !forms.contains(form) {
                    forms.push(*form);
                }
                i += spell.len();
            }
            None => {
                keep.push(tokens[i].clone());
                i += 1;
            }
        }
    }
    if keep.is_empty() {
        forms.clear();
        return forms;
    }
    *tokens = keep;
    forms
}

/// Whether a name part is the legal-form part `folded` (spelt `shown`).
///
/// Folding collapses doubled letters, so a brand like "Sroo" folds to the
/// form "sro": a part whose own spelling has doubled letters must match
/// the form's spelling before folding.
fn form_part_matches(folded: &str, shown: &str, t: &Token) -> bool {
    if t.abjad || t.text != folded {
        return false;
    }
    let doubled = t.shown.as_bytes().windows(2).any(|w| w[0] == w[1]);
    !doubled || t.shown == shown
}

fn form_spelling(spelling: &str) -> FormSpelling {
    let mut toks: Vec<Token> = to_latin(spelling);
    join_initials(&mut toks);
    toks.into_iter().map(|t| (t.text, t.shown)).unzip()
}

/// Looks up the legal form a free-text spelling denotes ("Société Anonyme").
pub fn legal_form_of(spelling: &str) -> Option<LegalForm> {
    let toks = form_spelling(spelling).0;
    form_table()
        .iter()
        .find(|((s, _), _)| *s == toks)
        .map(|(_, f)| *f)
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent
/// transposition), capped: returns `cap + 1` as soon as it is exceeded.
///
/// Works on bytes: normalised parts are ASCII. Three rolling rows on the
/// stack keep it allocation-free for parts up to 63 bytes.
pub fn osa_distance(a: &str, b: &str, cap: usize) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > cap {
        return cap + 1;
    }
    if n == 0 || m == 0 {
        return n.max(m);
    }
    if m >= 64 {
        return osa_long(a, b, cap);
    }
    let mut prev2 = [0usize; 64];
    let mut prev = [0usize; 64];
    let mut cur = [0usize; 64];
    for (j, v) in prev.iter_mut().enumerate().take(m + 1) {
        *v = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > cap {
            return cap + 1;
        }
        prev2 = prev;
        prev = cur;
    }
    prev[m]
}

fn osa_long(a: &[u8], b: &[u8], cap: usize) -> usize {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut d = vec![0usize; (n + 1) * w];
    for (i, row) in d.chunks_mut(w).enumerate() {
        row[0] = i;
    }
    for (j, v) in d.iter_mut().enumerate().take(m + 1) {
        *v = j;
    }
    for i in 1..=n {
        let mut row_min = usize::MAX;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > cap {
            return cap + 1;
        }
    }
    d[n * w + m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(name: &str, kind: NameKind) -> Vec<String> {
        normalise(name, kind)
            .tokens
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn transliteration_schemes_converge() {
        assert_eq!(
            texts("Малышев Роман Фёдорович", NameKind::Person),
            texts("Malyschew Roman Fjodorowitsch", NameKind::Person)
        );
        assert_eq!(
            texts("Αρτέμης Αρτεμίου", NameKind::Person),
            ["artemis", "artemiou"]
        );
        assert_eq!(texts("郑鹏", NameKind::Person), ["zheng", "peng"]);
    }

    #[test]
    fn legal_forms_are_recognised_across_languages() {
        let a = normalise("Phyix Capital Societe Anonyme", NameKind::Organisation);
        let b = normalise("Phyix Capital S.A.", NameKind::Organisation);
        assert_eq!(a.tokens, b.tokens);
        assert_eq!(a.legal_forms, b.legal_forms);
        let c = normalise("ООО «Векекс Телеком»", NameKind::Organisation);
        assert_eq!(c.legal_forms[0].code, "ooo");
        let d = normalise("深圳智龙电子有限公司", NameKind::Organisation);
        assert_eq!(d.legal_forms[0].code, "ltd");
        for (spelled, short) in [
            (
                "Brarota Innovations Anonim Şirketi",
                "Brarota Innovations A.Ş.",
            ),
            (
                "Toruta Research Société par actions simplifiée",
                "Toruta Research SAS",
            ),
            ("Kovar Aktsionernoe Obshchestvo", "AO Kovar"),
            ("Nordvik Aktiebolag", "Nordvik AB"),
        ] {
            let a = normalise(spelled, NameKind::Organisation);
            let b = normalise(short, NameKind::Organisation);
            assert_eq!(a.tokens, b.tokens, "{spelled}");
            assert_eq!(a.legal_forms[0].code, b.legal_forms[0].code, "{spelled}");
        }
    }

    #[test]
    fn osa_counts_a_transposition_as_one_edit() {
        assert_eq!(osa_distance("oamr", "omar", 3), 1);
        assert_eq!(osa_distance("kitten", "sitting", 5), 3);
        assert_eq!(osa_distance("abcdefgh", "a", 2), 3);
        let long = "a".repeat(70);
        assert_eq!(osa_distance(&long, &format!("{long}b"), 2), 1);
    }
}
