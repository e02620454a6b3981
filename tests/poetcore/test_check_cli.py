import json

import pytest
import typer
from typer.testing import CliRunner

from poetcore.cli.check import check_command

DENG_GAO = "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。"
SHAN_XING = "远上寒山石径斜，白云生处有人家。停车坐爱枫林晚，霜叶红于二月花。"
JING_YE_SI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    # The same registration poetcore.cli.main uses, without importing the other sub-apps.
    app = typer.Typer()
    app.command("check")(check_command)

    @app.callback()
    def main() -> None:
        """poetcore (test harness)"""

    return app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_regulated_poem_exits_0_with_marks(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", DENG_GAO])
    assert result.exit_code == 0, result.output
    assert "七律（仄起首句入韵）" in result.output and "韵部：灰" in result.output
    assert "合律" in result.output
    assert "✓" in result.output and "~" in result.output  # 回 / 难 are polyphonic
    assert "✗" not in result.output


def test_violations_exit_1_and_are_explained(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", "--form", "五绝", JING_YE_SI])  # named: checked as a 律绝
    assert result.exit_code == 1
    assert "第二句第四字应平而仄（上）" in result.output
    assert "第三句失粘" in result.output
    assert "✗" in result.output


@pytest.mark.parametrize("args", [["check"], ["check", "-"]], ids=["omitted", "dash"])
def test_reads_stdin(app: typer.Typer, runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(app, args, input=SHAN_XING.replace("，", "\n").replace("。", "\n"))
    assert result.exit_code == 0, result.output
    assert "七绝" in result.output and "韵部：麻" in result.output


def test_json_report(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", "--json", SHAN_XING.replace("二月花", "二月天")])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["form"] == "七绝" and data["rhyme_group"] == "麻"
    assert data["lines"] == ["远上寒山石径斜", "白云生处有人家", "停车坐爱枫林晚", "霜叶红于二月天"]
    assert data["violations"] == [
        {
            "code": "rhyme",
            "level": "犯律",
            "line": 3,
            "position": 6,
            "message": "第四句韵脚不押麻韵（“天”属先韵）",
            "message_en": "line 4: rhyme char 天 is not in the 麻 group",
        }
    ]
    assert data["tolerated"] == [] and data["rescues"] == []


def test_forced_form(app: typer.Typer, runner: CliRunner) -> None:
    assert runner.invoke(app, ["check", "--form", "七绝", SHAN_XING]).exit_code == 0
    result = runner.invoke(app, ["check", "--form", "七律", SHAN_XING])
    assert result.exit_code == 2
    assert "不是七律" in result.output and "支持的体裁" in result.output


def test_unknown_form_exits_2_listing_forms(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", "--form", "十四行诗", SHAN_XING])
    assert result.exit_code == 2
    assert "不支持的体裁“十四行诗”" in result.output and "五绝、七绝、五律、七律" in result.output


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("床前明月光，疑是地上霜。举头望明月。", "共3段"),
        ("床前明月光，疑是地上霜。举头望明月，低头思故乡啊啊。", "5、5、5、7"),
        ("hello world", "非汉字字符"),
        ("", "输入为空"),
    ],
    ids=["line-count", "mixed-lengths", "non-chinese", "empty"],
)
def test_bad_shape_exits_2(app: typer.Typer, runner: CliRunner, text: str, fragment: str) -> None:
    result = runner.invoke(app, ["check", text])
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "支持的体裁：五绝（4句×5字）" in result.stderr


def test_bad_shape_json(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", "--json", "hello"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["error"]["code"] == "poem_shape"


def test_gu_jue_is_named_exits_0_and_gets_no_suggestions(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", "--suggest", JING_YE_SI])
    assert result.exit_code == 0, result.output
    assert "体裁：古绝（平韵，古体" in result.output and "押韵无误" in result.output
    assert "参考（按律绝的格律，古体不必守）：4处" in result.output and "第三句失粘" in result.output
    assert "建议" not in result.output and "✗" not in result.output and "--form 五绝" in result.output
    jiang = runner.invoke(app, ["check", "--json", "千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。"])
    data = json.loads(jiang.stdout)
    assert jiang.exit_code == 0 and data["form_label"] == "古绝" and data["rhyme_name"] == "入声屑"
    named = runner.invoke(app, ["check", "--form", "五绝", "--suggest", JING_YE_SI])
    assert named.exit_code == 1 and "建议：第三句第二字“头”可换作" in named.output


def test_titled_ci_and_shapes_that_fit_nothing(app: typer.Typer, runner: CliRunner) -> None:
    shuidiao = ("水调歌头 明月几时有？把酒问青天。不知天上宫阙，今夕是何年。我欲乘风归去，又恐琼楼玉宇，高处不胜寒。"
                "起舞弄清影，何似在人间。转朱阁，低绮户，照无眠。不应有恨，何事长向别时圆？人有悲欢离合，"
                "月有阴晴圆缺，此事古难全。但愿人长久，千里共婵娟。")
    result = runner.invoke(app, ["check", shuidiao])
    assert result.exit_code == 0 and "词牌：水调歌头" in result.output
    slow = runner.invoke(app, ["check", "声声慢 寻寻觅觅，冷冷清清，凄凄惨惨戚戚。乍暖还寒时候，最难将息。"])
    assert slow.exit_code == 2 and "声声慢" in slow.stderr and "最常见的 50 个词牌" in slow.stderr
    odd = runner.invoke(app, ["check", "一二三四五六七八九十，甲乙丙丁。"])
    assert odd.exit_code == 2 and "也不是已统计的 50 个词牌之一" in odd.stderr and "水调歌头 明月几时有" in odd.stderr
