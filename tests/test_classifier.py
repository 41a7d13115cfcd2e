"""The intent classifier: boundary cases, cues, priorities, the YAML table and its validation."""
from __future__ import annotations

import threading
from dataclasses import FrozenInstanceError
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.constants import CASE_DEPARTMENTS
from bot.domain import routing
from handlers.intents import INTENTS, get_spec
from handlers.understanding import classifier as classifier_module
from handlers.understanding.classifier import Classifier, LexiconError, load_classifier
from handlers.understanding.lexicon import DEFAULT_PATH, TEXT_DIR


@pytest.fixture(scope="module")
def clf() -> Classifier:
    """One classifier for the module (loading takes a fraction of a second)."""
    return load_classifier()


@pytest.mark.parametrize(("text", "intent"), [
    # leak
    ("我家厕所顶上一直在往下渗水", "leak"),
    ("上面那家的水管子裂了，水哗哗地流到我家", "leak"),
    ("外墙一下雨就往屋里渗，墙皮都泡了", "leak"),
    ("暖气片接口那儿一直在漏", "leak"),
    ("跑水了！楼上没人在家", "leak"),
    ("厨房下水返水，脏水冒了一地", "leak"),
    # pest
    ("厨房里小强越来越多，晚上开灯一地", "pest"),
    ("地下室里耗子乱窜，把电线都咬了", "pest"),
    ("我们楼前的绿化带里蚊子特别多，能不能来喷点药", "pest"),
    ("什么时候来小区消杀", "pest"),
    # clutter
    ("三单元楼道被邻居塞满了废纸壳和破椅子", "clutter"),
    ("消防通道被几辆破自行车堵住了", "clutter"),
    ("楼梯拐角放了好几个大花盆，老人上下楼不方便", "clutter"),
    ("有人天天把电动车推进楼道里充电", "clutter"),
    # construction
    ("一楼那家把门前的绿地圈起来当自家院子", "construction"),
    ("顶楼的在楼顶上搭了个彩钢房", "construction"),
    ("隔壁装修要把承重墙砸了，这能行吗", "construction"),
    ("小区里私搭乱建的小棚子越来越多", "construction"),
    # utility
    ("我们楼从早上就停电了，到现在也没来", "utility"),
    ("家里水龙头拧开一滴水都没有", "utility"),
    ("这两天暖气片摸着冰凉，屋里冷得待不住", "utility"),
    ("什么时候能来水啊", "utility"),
    ("今天停水了吗？", "utility"),
    ("自来水发黄，还有一股铁锈味", "utility"),
    # other: no team owns it
    ("电梯坏了三天了没人修", "other"),
    ("东门那边的路灯一到晚上就不亮", "other"),
    ("对面工地凌晨两点还在施工打桩，闹得人没法睡", "other"),
    ("楼上装修电钻声太吵了", "other"),
    ("这个月的水费怎么交", "other"),
    ("燃气费在哪里交？", "other"),
    ("物业费为什么又涨了", "other"),
    ("外面的车老停在我们车位上", "other"),
    ("请问社区几点上班", "other"),
    ("在吗", "other"),
    ("👍", "other"),
    ("Hello, anybody there?", "other"),
])
def test_boundary_cases(clf: Classifier, text: str, intent: str) -> None:
    assert clf.classify(text).intent == intent


@pytest.mark.parametrize(("text", "intent"), [
    ("下大雨屋里漏得跟筛子似的，盆都不够接的", "leak"),
    ("隔壁空房子的水管冻裂了，水从门缝里流出来", "leak"),
    ("天花板这两天一直往下掉水珠", "leak"),
    ("家里被褥上发现了臭虫，咬得浑身痒", "pest"),
    ("屋里有耗子，晚上听见嗑东西的声音", "pest"),
    ("对门捡的破烂把楼道堵得严严实实", "clutter"),
    ("我们楼的安全出口被柜子挡上了", "clutter"),
    ("楼梯间最里头让人垒了道墙，成了他自己的库房", "construction"),
    ("对面楼有人往外搭了个铁架子阳台", "construction"),
    ("水龙头出来的水是黄色的，还有味道", "utility"),
    ("水压小得热水器都打不着", "utility"),
    ("窗户关不严，冷风一个劲往屋里灌", "other"),
    ("楼下新开的饭馆天天放音乐，太吵了", "other"),
    ("请问停车费怎么交", "other"),
])
def test_colloquial_descriptions(clf: Classifier, text: str, intent: str) -> None:
    assert clf.classify(text).intent == intent


@pytest.mark.parametrize(("text", "intent"), [
    ("不是漏水，是楼道里的杂物太多了", "clutter"),
    ("我说的不是蟑螂，是楼上私自加盖了一层", "construction"),
    ("没有漏水，就是想问问物业费的事", "other"),
    ("不是停电的问题，电梯又卡住不动了", "other"),
])
def test_negation_moves_the_intent(clf: Classifier, text: str, intent: str) -> None:
    assert clf.classify(text).intent == intent


@pytest.mark.parametrize("text", [
    "上周说的卫生间渗漏，师傅已经修好了，感谢",
    "堆在楼道的那些箱子都搬走了，辛苦各位",
    "停电的事解决了，谢谢你们",
    "终于来水了，谢谢大家",
    "违建已经拆除了，感谢街道",
    "蟑螂的事不用处理了，我们自己买了药",
])
def test_resolved_problems_are_case_updates(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert result.intent == "other"
    assert result.also == ()


@pytest.mark.parametrize(("text", "intent"), [
    ("漏水修好了吗？现在还在滴", "leak"),
    ("说是修好了，结果又漏了", "leak"),
    ("暖气的问题一直没解决", "utility"),
    ("楼上漏水，麻烦尽快处理，谢谢", "leak"),
    ("希望尽快修好，家里已经停水两天了", "utility"),
])
def test_open_problems_stay_complaints(clf: Classifier, text: str, intent: str) -> None:
    assert clf.classify(text).intent == intent


@pytest.mark.parametrize(("text", "intent", "also"), [
    ("楼上漏水漏到我家，另外楼梯口被他家的建材堆满了", "leak", "clutter"),
    ("楼道杂物堆成山，里面全是蟑螂", "clutter", "pest"),
    ("家里停水了，楼下还有人在绿地上搭棚子", "utility", "construction"),
])
def test_two_complaints(clf: Classifier, text: str, intent: str, also: str) -> None:
    result = clf.classify(text)
    assert (result.intent, result.also[:1]) == (intent, (also,))
    assert intent not in result.also


@pytest.mark.parametrize("text", ["厨房一股煤气味", "楼道里天然气味道特别大", "燃气管子那儿呲呲响，好像漏气了"])
def test_gas_smell_is_critical(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert (result.intent, result.priority, result.safety) == ("utility", "critical", "safety/gas")
    assert routing.decide(result.intent, result.priority, "managed").time_limit == timedelta(hours=2)


def test_gas_smell_comes_first_in_a_mixed_message(clf: Classifier) -> None:
    result = clf.classify("楼梯间塞满了杂物，而且有一股煤气味")
    assert (result.intent, result.priority) == ("utility", "critical")
    assert "clutter" in result.also


def test_burst_pipe_is_critical_and_a_plain_leak_is_not(clf: Classifier) -> None:
    burst = clf.classify("水管爆了，屋里都淹了")
    assert (burst.intent, burst.priority) == ("leak", "critical")
    assert routing.decide(burst.intent, burst.priority, "managed").time_limit == timedelta(hours=2)
    drip = clf.classify("卫生间顶上有点渗水")
    assert (drip.intent, drip.priority) == ("leak", "urgent")
    assert routing.decide(drip.intent, drip.priority, "managed").time_limit == timedelta(hours=24)


def test_gas_bill_is_not_a_gas_emergency(clf: Classifier) -> None:
    result = clf.classify("燃气费交了以后燃气表还是显示欠费")
    assert (result.intent, result.priority) == ("other", "normal")


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "，。！"])
def test_empty_text_is_other(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert (result.intent, result.terms, result.also) == ("other", (), ())


@pytest.mark.parametrize(("text", "term"), [
    ("家里有小强", "蟑螂"), ("厨房有耗子", "老鼠"), ("楼上跑水了", "跑水"), ("暖器不热", "暖气不热"),
    ("楼道堆物堆料严重", "堆物堆料"), ("院里有私搭乱建", "私搭乱建"), ("邻居拆了承重墙", "承重墙"),
])
def test_colloquial_words_and_typos_map_to_terms(clf: Classifier, text: str, term: str) -> None:
    assert term in clf.classify(text).terms


def test_result_shape(clf: Classifier) -> None:
    result = clf.classify("楼道堆了一堆杂物没人管")
    assert result.intent == "clutter" and 0 < result.confidence <= 1
    assert set(result.scores) == {spec.name for spec in INTENTS}
    assert result.scores["clutter"] == max(result.scores.values())
    with pytest.raises(FrozenInstanceError):
        result.intent = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.scores["other"] = 1.0  # type: ignore[index]


def test_low_confidence_falls_back_to_other(clf: Classifier) -> None:
    result = clf.classify("墙上有点潮")  # one weak hint
    assert result.intent == "other"
    assert result.scores["leak"] > 0


def test_concurrent_reads_agree(clf: Classifier) -> None:
    texts = ["楼上漏水了", "楼道堆满杂物", "停电了", "电梯坏了"] * 50
    expected = [clf.classify(t).intent for t in texts]
    results: list[list[str]] = []

    def work() -> None:
        results.append([clf.classify(t).intent for t in texts])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


def test_module_level_classify_is_lazy() -> None:
    assert classifier_module.classify("楼上漏水了").intent == "leak"


def test_the_global_jieba_tokenizer_is_left_alone(clf: Classifier) -> None:
    import jieba

    assert "堆物堆料" not in jieba.dt.FREQ


# --- the intent table ---------------------------------------------------------------------------

def test_intent_table_order_and_departments() -> None:
    assert [s.name for s in INTENTS] == ["emergency", "leak", "pest", "clutter", "construction", "utility", "facility",
                                          "other"]
    decisions = {s.name: routing.decide(s.name, s.priority, "managed") for s in INTENTS}  # routing.yaml's
    assert {name: d.department for name, d in decisions.items()} == {
        "emergency": "community", "leak": "property", "pest": "health", "clutter": "community",
        "construction": "enforcement", "utility": "property", "facility": "property", "other": "community"}
    assert all(d.department in CASE_DEPARTMENTS for d in decisions.values())
    assert decisions["utility"].time_limit == timedelta(hours=24)
    assert decisions["pest"].time_limit == timedelta(hours=72)
    assert get_spec("other").safety is None
    with pytest.raises(KeyError):
        get_spec("noise")


@pytest.mark.parametrize("name", ["leak", "pest", "clutter", "construction", "utility", "gas", "fire", "lift",
                                  "electric", "medical"])
def test_safety_texts_exist(name: str) -> None:
    assert (TEXT_DIR / "safety" / f"{name}.txt").read_text(encoding="utf-8").strip()


def test_safety_texts_carry_the_hotlines() -> None:
    from bot.messaging.texts import render_text

    assert "96777" in render_text("safety/gas")
    utility = render_text("safety/utility")  # every kind of supply, as residents see it
    assert "95598" in utility and "96116" in utility


# --- the YAML table -----------------------------------------------------------------------------

def _table() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "keywords.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_new_intent_from_yaml_alone(tmp_path: Path) -> None:
    data = _table()
    data["intents"]["noise"] = {
        "spec": {"priority": "high"},
        "terms": [{"广场舞": 4}, {"噪音扰民": {"weight": 4, "aliases": ["吵死人"]}}],
    }
    del data["intents"]["other"]["terms"]
    custom = load_classifier(_write(tmp_path, data))
    result = custom.classify("楼下广场舞每天晚上放到十点")
    assert (result.intent, result.priority) == ("noise", "high")
    routing.check_intents(routing.load_rules(), custom.intents)  # routing.yaml's last rule catches it
    decision = routing.decide("noise", "high", "managed")
    assert (decision.department, decision.time_limit) == ("community", timedelta(hours=168))
    assert custom.intents[-2:] == ("noise", "other")
    assert custom.classify("楼上漏水了").intent == "leak"


def test_yaml_spec_overrides_module_facts(tmp_path: Path) -> None:
    data = _table()
    data["intents"]["pest"]["spec"] = {"priority": "high"}
    custom = load_classifier(_write(tmp_path, data))
    assert custom.spec("pest").priority == "high"
    assert custom.spec("pest").safety == "safety/pest"
    assert custom.classify("家里好多蟑螂").priority == "high"


def _broken(path: list, value: object) -> dict:
    data = _table()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(("path", "value", "message"), [
    (["intents", "leak", "terms", 3], {"渗漏": "heavy"},
     "keywords.yaml: intents.leak.terms[3]: weight must be a number"),
    (["intents", "leak", "terms", 0], {"漏水": -1}, "intents.leak.terms[0]: weight must be positive"),
    (["intents", "pest", "colour"], "red", "intents.pest: unknown key 'colour'"),
    (["intents", "noise"], {"spec": {"department": "grid"}},
     "intents.noise.spec.department: department and time limit are decided by bot/domain/routing.yaml"),
    (["intents", "pest", "spec"], {"time_limit_hours": 48},
     "intents.pest.spec.time_limit_hours: department and time limit are decided by bot/domain/routing.yaml"),
    (["intents", "noise"], {"spec": {"priority": "asap"}}, "intents.noise.spec.priority: must be one of"),
    (["intents", "leak", "spec"], {"safety": "safety/nothing"}, "no template templates/text/safety/nothing.txt"),
    (["intents", "Bad-Name"], {}, "intent names are lowercase"),
    (["settings", "min_confidence"], "high", "settings: min_confidence must be a number"),
    (["settings", "speed"], 3, "settings: unknown key 'speed'"),
    (["settings", "min_confidence"], 1.5, "settings: min_confidence must be between 0 and 1"),
    (["settings", "max_chars"], 0, "settings: max_chars must be positive"),
    (["intents", "resolved"], {"spec": {"department": "grid"}}, "'resolved' is the name of a cue list"),
    (["cues", "negation"], "不是", "cues.negation: must be a non-empty list"),
    (["intents", "leak", "pairs", 0, "window"], 0, "intents.leak.pairs[0].window: must be a positive integer"),
    (["intents", "utility", "escalate", 0, "priority"], "asap", "escalate[0].priority: must be one of"),
    (["colour"], "red", "keywords.yaml: unknown key 'colour'"),
    (["intents"], {}, "intents: must be a non-empty mapping"),
])
def test_bad_yaml_names_the_entry(tmp_path: Path, path: list, value: object, message: str) -> None:
    with pytest.raises(LexiconError) as caught:
        load_classifier(_write(tmp_path, _broken(path, value)))
    assert message in str(caught.value)


def test_only_the_first_max_chars_are_read(clf: Classifier, tmp_path: Path) -> None:
    assert clf.classify("楼上漏水" + "a" * 60000).intent == "leak"
    assert clf.classify("a" * 2000 + "楼上漏水").intent == "other"  # past the default 2,000 characters
    data = _table()
    data["settings"]["max_chars"] = 12
    short = load_classifier(_write(tmp_path, data))
    assert short.classify("请问社区几点上班？另外楼上漏水了").intent == "other"
    assert "".join(short.tokens("请问社区几点上班？另外楼上漏水了")) == "请问社区几点上班?另外楼"  # --explain too


def test_unreadable_yaml(tmp_path: Path) -> None:
    path = tmp_path / "keywords.yaml"
    path.write_text("intents: [unclosed", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"keywords\.yaml: cannot read"):
        load_classifier(path)
    with pytest.raises(LexiconError, match="cannot read"):
        load_classifier(tmp_path / "missing.yaml")


@pytest.mark.parametrize("text", ["燃气费刚交完，厨房里怎么一股燃气味", "上次说修好了，谢谢，可现在又闻到煤气味了"])
def test_gas_smell_beats_fees_and_thanks(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert (result.intent, result.priority, result.resolved) == ("utility", "critical", False)


def test_resolved_flag(clf: Classifier) -> None:
    assert clf.classify("渗水的地方已经修好了，多谢").resolved
    assert not clf.classify("漏水还没修好").resolved
    assert not clf.classify("水费怎么交").resolved


def test_get_spec_is_the_code_and_the_classifier_has_the_effective_spec(tmp_path: Path) -> None:
    data = _table()
    data["intents"]["noise"] = {"spec": {"priority": "high"}, "terms": [{"广场舞": 4}]}
    data["intents"]["pest"]["spec"] = {"priority": "urgent"}
    clf = classifier_module.load_classifier(_write(tmp_path, data))
    assert clf.spec("noise").priority == "high" and clf.classify("广场舞太响了").intent == "noise"
    assert (clf.spec("pest").priority, get_spec("pest").priority) == ("urgent", "normal")
    with pytest.raises(KeyError):
        get_spec("noise")


@pytest.mark.parametrize("text", ["上个月停电把我家冰箱弄坏了，这个损失谁赔", "暖气费能不能按不热的天数退一部分"])
def test_other_routes_nothing_through_also(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert (result.intent, result.also) == ("other", ())


@pytest.mark.parametrize("text, intent, safety", [
    ("楼道里冒烟了，好像着火了", "emergency", "safety/fire"),
    ("我妈被关在电梯里出不来", "emergency", "safety/lift"),
    ("楼道电表箱冒烟了", "emergency", "safety/electric"),  # the heavier group: electricity, not fire
    ("我家老头摔倒了起不来", "emergency", "safety/medical"),
    ("楼道里堆满了纸壳子，万一着火了谁都跑不出去", "clutter", "safety/clutter"),  # a fear, not a fire
    ("楼梯上堆着砖头，我差点摔倒", "clutter", "safety/clutter"),
    ("楼上邻居在楼道里囤了一堆纸壳子，着火了怎么办", "clutter", "safety/clutter"),  # asked, beside another problem
    ("电梯停了，不是停电，是电梯卡住不动了", "other", None),  # a lift stuck, nobody said trapped
    ("天然气打不着火了", "utility", "safety/utility"),  # 着火 inside 打不着火 is no fire
])
def test_emergencies_and_fears(clf: Classifier, text: str, intent: str, safety: str | None) -> None:
    c = clf.classify(text)
    assert (c.intent, c.safety) == (intent, safety)
    assert (c.priority == "critical") == (intent == "emergency")


@pytest.mark.parametrize(("text", "intent"), [
    ("院里有人堆了砖头要盖棚子，孩子们都搬走了，老两口非要盖", "construction"),  # people moved out: no news
    ("楼 道 里 有 老 鼠", "pest"),  # a space after each character
    ("家里挺水了一天了", "utility"),  # 挺: the pinyin typo of 停
    ("电梯卡住了 里面有人 出不来", "emergency"),
])
def test_round_two_readings(clf: Classifier, text: str, intent: str) -> None:
    assert clf.classify(text).intent == intent


def test_water_at_a_socket_is_a_critical_leak(clf: Classifier) -> None:
    result = clf.classify("水都流到插座那了 会不会漏电")
    assert (result.intent, result.priority) == ("leak", "critical")


def test_things_moved_away_are_still_news(clf: Classifier) -> None:
    assert clf.classify("邻居把东西都搬走了").intent == "other"
