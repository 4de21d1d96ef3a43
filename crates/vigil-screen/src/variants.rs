//! Known variants of given names and family names that spelling rules do
//! not reach: hypocoristics (Kostas for Konstantinos, Sasha for
//! Aleksandr), romanisations of one name (Yusuf, Youssef), Egyptian
//! romanisation of Arabic jim as g (Gamal for Jamal), and Cantonese
//! romanisations of Chinese family names beside their pinyin (Cheung for
//! Zhang, Ng for Wu).
//!
//! Translations of a name into another language (Paul, Pablo, Pavel) are
//! not variants here: they are usually different people who share a
//! name's origin, and treating them as one raises false alerts.
//!
//! The table is general knowledge of naming, written once; it is not fitted
//! to any list. Spellings are folded with [`fold_latin`] when the table is
//! built, so one entry covers the spellings folding already merges.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::text::fold_latin;

/// Groups of spellings that name the same given name (or family name).
const GROUPS: &[&[&str]] = &[
    // Greek: romanisations and hypocoristics.
    &["konstantinos", "kostas", "costas", "kostis", "dinos"],
    &["aikaterini", "ekaterini", "katerina", "katina", "katia"],
    &["georgios", "giorgos", "yiorgos", "yorgos"],
    &["ioannis", "giannis", "yiannis", "yannis", "ioannes"],
    &["dimitrios", "dimitris", "mitsos", "demetrios", "mimis"],
    &["panagiotis", "panayiotis", "panagiotes", "takis", "panos"],
    &["panagiota", "panayiota", "giota", "yiota"],
    &["vasileios", "vasilis", "vassilis", "vasos"],
    &["nikolaos", "nikos", "nikolas"],
    &["athanasios", "thanasis", "thanos", "sakis"],
    &["christos", "christakis", "chris"],
    &["eleni", "elena", "lena"],
    &["alexandros", "alexis", "alekos", "alex"],
    &["michail", "michalis", "mihalis", "michael"],
    &["stefanos", "stephanos", "stelios"],
    &["spyridon", "spyros", "spiros"],
    &["evangelos", "vangelis"],
    &["charalambos", "charalampos", "babis", "haris"],
    &["eirini", "irini", "rena"],
    &["theodoros", "thodoris", "theodore"],
    // Russian and Ukrainian: romanisations and diminutives.
    &[
        "aleksandr",
        "alexander",
        "sasha",
        "shura",
        "oleksandr",
        "aleksander",
    ],
    &["aleksandra", "alexandra", "sasha", "shura", "oleksandra"],
    &["vladimir", "volodya", "volodymyr", "vova"],
    &["sergey", "sergei", "serhiy", "seryozha", "serezha"],
    &["yevgeniy", "evgeniy", "evgeny", "yevhen", "zhenya"],
    &["yevgeniya", "evgeniya", "zhenya"],
    &["konstantin", "kostya"],
    &["mikhail", "misha", "mykhailo"],
    &["dmitriy", "dmitry", "dima", "dmytro", "mitya"],
    &["nikolay", "nikolai", "kolya", "mykola"],
    &[
        "aleksey", "alexei", "alexey", "oleksiy", "lyosha", "alyosha",
    ],
    &["andrey", "andrei", "andriy", "andrusha"],
    &["ivan", "vanya"],
    &["pavel", "pasha", "pavlo"],
    &["pyotr", "petr", "petya", "petro"],
    &["yakov", "yasha"],
    &["iosif", "osip"],
    &["ilya", "ilia", "ilyusha"],
    &["yuriy", "yuri", "yura", "yurii"],
    &["boris", "borya"],
    &["leonid", "lyonya"],
    &["grigoriy", "grigory", "grisha", "hryhoriy"],
    &["fyodor", "fedor", "fedya"],
    &["natalya", "natalia", "natasha", "nataliya"],
    &["tatyana", "tatiana", "tanya"],
    &["svetlana", "sveta"],
    &["olga", "olya", "olha"],
    &["yuliya", "yulia", "julia"],
    &["anastasiya", "anastasia", "nastya"],
    &["lyudmila", "ludmila", "lyuda", "luda"],
    &["mariya", "maria", "masha"],
    &["yekaterina", "ekaterina", "katya", "katerina"],
    &["yelena", "elena", "lena"],
    &["anna", "anya"],
    &["kseniya", "ksenia", "oksana"],
    &["yelizaveta", "elizaveta", "liza"],
    // Arabic names: romanisations that folding does not merge, and the
    // Egyptian g for jim.
    &[
        "mohammed", "muhammad", "mohamed", "mohamad", "muhammed", "mohammad", "mohd", "muhamad",
        "mahomed",
    ],
    &["ahmed", "ahmad"],
    &["mahmoud", "mahmud", "mahmood"],
    &["mustafa", "mostafa", "moustafa", "mustapha"],
    &["jamal", "gamal", "djamal"],
    &["jamil", "gamil", "djamil", "jameel"],
    &[
        "majid", "magid", "maged", "majed", "magdy", "magdi", "majdi",
    ],
    &["rajab", "ragab"],
    &["najib", "naguib", "nagib", "najeeb"],
    &["faraj", "farag"],
    &["jaber", "gaber", "jabir", "gabir"],
    &["hijazi", "hegazi", "hegazy", "higazi"],
    &["jalal", "galal"],
    &["jumaa", "gomaa", "gomaah", "juma"],
    &[
        "sulayman", "suleiman", "sulaiman", "soliman", "suliman", "suleyman",
    ],
    &["ibrahim", "ebrahim", "ibraheem", "brahim"],
    &["ismail", "esmail", "ismael"],
    &["musa", "moussa", "mousa"],
    &["dawood", "dawud", "daoud", "daud"],
    &[
        "yusuf", "yousef", "youssef", "yousif", "yussuf", "yusef", "yosef",
    ],
    &["yahya", "yehia", "yahia"],
    &["issa", "isa", "eissa"],
    &["yaqub", "yakub", "yacoub", "yaacoub"],
    &["hussein", "husain", "hussain", "hossein", "husayn"],
    &["hassan", "hasan"],
    &["omar", "umar"],
    &["othman", "uthman", "osman", "usman"],
    &["abdullah", "abdallah", "abdulla", "abdellah"],
    &[
        "abdulrahman",
        "abdelrahman",
        "abdurrahman",
        "abdalrahman",
        "abderrahmane",
    ],
    &["khalid", "khaled"],
    &["walid", "waleed"],
    &["tariq", "tarek", "tarik", "tareq"],
    &["yasser", "yasir", "yaser"],
    &["said", "saeed", "sayed", "saiid"],
    &["zaynab", "zainab", "zeinab"],
    &["fatima", "fatma", "fatimah"],
    &["aisha", "aicha", "ayesha"],
    &["nasr", "nasser", "naser"],
    &["qasim", "kassem", "kasim", "qassem"],
    &["rashid", "rachid", "rasheed"],
    // English short forms.
    &["william", "bill", "will", "billy"],
    &["robert", "bob", "rob", "bobby"],
    &["richard", "rick", "dick", "rich"],
    &["thomas", "tom", "tommy"],
    &["james", "jim", "jimmy", "jamie"],
    &["elizabeth", "liz", "beth", "betty", "lizzie"],
    &["margaret", "maggie", "peggy", "meg"],
    &["jessica", "jess"],
    &["daniel", "dan", "danny"],
    &["anthony", "tony"],
    &["edward", "ed", "ted", "eddie"],
    &[
        "catherine",
        "katherine",
        "kathryn",
        "kate",
        "katie",
        "cathy",
    ],
    // Chinese family names: Cantonese, Wade-Giles and Hokkien
    // romanisations beside pinyin (only those that are not themselves the
    // pinyin of another common family name).
    &["zhang", "cheung", "cheong"],
    &["wu", "ng", "woo", "goh"],
    &["gao", "ko", "kao", "koh"],
    &["chen", "chan"],
    &["huang", "wong", "hwang", "oei"],
    &["wang", "wong", "ong"],
    &["li", "lee"],
    &["liu", "lau"],
    &["zhou", "chow", "chau", "chou"],
    &["zhao", "chiu", "chao"],
    &["lin", "lam", "lim"],
    &["yang", "yeung", "ieong"],
    &["liang", "leung"],
    &["guo", "kwok", "kuo", "quek"],
    &["he", "ho"],
    &["luo", "law", "lo", "loh"],
    &["lu", "lo", "loo"],
    &["xie", "tse", "hsieh", "seah"],
    &["xu", "hui", "hsu", "tsui", "koh"],
    &["zeng", "tsang", "tseng"],
    &["feng", "fung", "fong"],
    &["deng", "teng"],
    &["cai", "choi", "tsai", "chua", "choy"],
    &["guan", "kwan", "kuan"],
    &["ye", "yip", "yeh", "yap"],
    &["pan", "poon", "phua"],
    &["song", "sung", "soong"],
    &["jiang", "chiang", "keung"],
    &["zhu", "chu"],
    &["sun", "suen"],
    &["ma", "mah"],
    &["hu", "woo", "foo"],
    &["mai", "mak"],
    &["yu", "yee"],
    &["wei", "ngai"],
];

fn table() -> &'static HashMap<String, Vec<u16>> {
    static TABLE: OnceLock<HashMap<String, Vec<u16>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map: HashMap<String, Vec<u16>> = HashMap::new();
        for (g, group) in GROUPS.iter().enumerate() {
            for name in group.iter() {
                let groups = map.entry(fold_latin(name)).or_default();
                if !groups.contains(&(g as u16)) {
                    groups.push(g as u16);
                }
            }
        }
        map
    })
}

/// The variant groups a folded name part belongs to (empty when none).
pub fn groups(folded: &str) -> &'static [u16] {
    table().get(folded).map(Vec::as_slice).unwrap_or(&[])
}

/// Whether two folded name parts are known variants of one name.
pub fn related(a: &str, b: &str) -> bool {
    let ga = groups(a);
    !ga.is_empty() && groups(b).iter().any(|g| ga.contains(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> String {
        fold_latin(s)
    }

    #[test]
    fn hypocoristics_and_romanisations_are_related() {
        assert!(related(&f("kostas"), &f("konstantinos")));
        assert!(related(&f("gamal"), &f("jamal")));
        assert!(related(&f("yusuf"), &f("youssef")));
        assert!(related(&f("cheung"), &f("zhang")));
        assert!(related(&f("katerina"), &f("aikaterini")));
    }

    #[test]
    fn different_names_are_not_related() {
        assert!(!related(&f("kostas"), &f("georgios")));
        assert!(!related(&f("omar"), &f("ahmed")));
        assert!(!related(&f("zhang"), &f("wang")));
        assert!(!related(&f("unknownname"), &f("unknownname")));
    }
}
