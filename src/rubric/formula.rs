//! A json-formula engine: the expression language of the C2PA asset rubrics.
//!
//! json-formula (Adobe's JMESPath dialect, `@adobe/json-formula`) is what the
//! rubric YAML files are written in. This module implements the language as
//! the rubrics use it, with the reference implementation's semantics:
//! paths, quoted names (`'c2pa.actions.v2'`), indexes and slices,
//! projections (`[]`, `[*]`, `.*`), filters (`[? …]`), pipes, the
//! operators (`||`, `&&`, `!`, comparisons, arithmetic, `&`, `~`), string,
//! number and JSON literals, list and object constructors, globals (`$name`)
//! and the functions the rubrics call (`contains`, `endsWith`, `if`, `keys`,
//! `length`, `notNull`, `split`, `startsWith`, `type`, `values`), plus the
//! rubric's own named expressions as functions ([`Engine::define`]).
//!
//! Semantics follow the reference implementation rather than JMESPath where
//! they differ: `||`/`&&` return an operand, projections keep `null`s,
//! function arguments are coerced to the type the function takes (`null`
//! reads as `""` for a string), a number on either side makes a comparison
//! numeric, empty lists and objects are false. `tests/rubric.rs` holds every
//! expression of every shipped rubric equal to `@adobe/json-formula`'s result
//! on real crJSON documents, and `tests/rubric/formula-cases.json` holds the
//! reference's results for expressions covering every construct, which a
//! unit test below holds this engine to.
//!
//! Where vouch differs on purpose: an unterminated quoted name (`'abc`) is a
//! syntax error (the reference reads it as the name `ab`); a number beyond
//! f64's range is `null` (JSON has no `Infinity`; the reference carries it on
//! as a number); expression references (`&name`) are refused, as no function
//! here takes one.
//!
//! Any input is safe: syntax and evaluation problems are [`FormulaError`]s,
//! and nesting and recursion are bounded.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormulaError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("type error: {0}")]
    Type(String),
    #[error("function error: {0}")]
    Function(String),
    #[error("evaluation error: {0}")]
    Evaluation(String),
}

type Result<T> = std::result::Result<T, FormulaError>;

fn syntax<T>(message: impl Into<String>) -> Result<T> {
    Err(FormulaError::Syntax(message.into()))
}

fn type_error<T>(message: impl Into<String>) -> Result<T> {
    Err(FormulaError::Type(message.into()))
}

/// How deep expressions may nest, and named expressions call each other,
/// before the engine refuses (instead of exhausting the stack).
const MAX_DEPTH: usize = 200;
const MAX_CALL_DEPTH: usize = 64;
const MAX_EVAL_DEPTH: usize = 400;

// ---------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Identifier(String),
    QuotedIdentifier(String),
    Global(String),
    String(String),
    Json(Value),
    Number(f64),
    Int(i64),
    Dot,
    Comma,
    Colon,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Current,
    Filter,
    Flatten,
    Star,
    Multiply,
    Not,
    UnaryMinus,
    Subtract,
    Add,
    Divide,
    Union,
    Concatenate,
    ExpRef,
    And,
    Or,
    Pipe,
    Comparator(Cmp),
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn starts_identifier(c: char) -> bool {
    c == '$' || c.is_ascii_alphabetic() || c == '_'
}

fn tokenize(source: &str, globals: &[String]) -> Result<Vec<Token>> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    let word_end = |from: usize| {
        let mut j = from;
        while j < chars.len() && (chars[j] == '$' || is_alnum(chars[j])) {
            j += 1;
        }
        j
    };
    while i < chars.len() {
        let c = chars[i];
        let prev = tokens.last();
        // A global is a `$name` the caller declared, except after a dot.
        if c == '$' && prev != Some(&Token::Dot) {
            let end = word_end(i + 1);
            let name: String = chars[i..end].iter().collect();
            if globals.contains(&name) {
                tokens.push(Token::Global(name));
                i = end;
                continue;
            }
        }
        if starts_identifier(c) {
            let end = word_end(i + 1);
            tokens.push(Token::Identifier(chars[i..end].iter().collect()));
            i = end;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let (token, end) = number(&chars, i)?;
            tokens.push(token);
            i = end;
            continue;
        }
        let simple = match c {
            '.' => Some(Token::Dot),
            ',' => Some(Token::Comma),
            ':' => Some(Token::Colon),
            '{' => Some(Token::LBrace),
            '}' => Some(Token::RBrace),
            ']' => Some(Token::RBracket),
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            '@' => Some(Token::Current),
            _ => None,
        };
        if let Some(token) = simple {
            tokens.push(token);
            i += 1;
            continue;
        }
        match c {
            '-' if !matches!(
                prev,
                Some(
                    Token::Global(_)
                        | Token::Current
                        | Token::Number(_)
                        | Token::Int(_)
                        | Token::RParen
                        | Token::Identifier(_)
                        | Token::QuotedIdentifier(_)
                        | Token::RBracket
                        | Token::Json(_)
                        | Token::String(_)
                )
            ) =>
            {
                tokens.push(Token::UnaryMinus);
                i += 1;
            }
            '[' => match chars.get(i + 1) {
                Some('?') => {
                    tokens.push(Token::Filter);
                    i += 2;
                }
                Some(']') => {
                    tokens.push(Token::Flatten);
                    i += 2;
                }
                _ => {
                    tokens.push(Token::LBracket);
                    i += 1;
                }
            },
            '\'' => {
                let (raw, end) = delimited(&chars, i, '\'')?;
                // The reference JSON-decodes the name with `\'` unescaped.
                let json = format!("\"{}\"", raw.replace("\\'", "'"));
                let name: String =
                    serde_json::from_str(&json).or_else(|_| syntax(format!("invalid quoted name: '{raw}'")))?;
                tokens.push(Token::QuotedIdentifier(name));
                i = end;
            }
            '"' => {
                let (raw, end) = delimited(&chars, i, '"')?;
                let text: String = serde_json::from_str(&format!("\"{raw}\""))
                    .or_else(|_| syntax(format!("invalid string literal: \"{raw}\"")))?;
                tokens.push(Token::String(text));
                i = end;
            }
            '`' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '`' {
                    j += if chars[j] == '\\' && chars.get(j + 1) == Some(&'`') { 2 } else { 1 };
                }
                if j >= chars.len() {
                    return syntax(format!("unterminated JSON literal at {i}"));
                }
                let raw: String = chars[i + 1..j].iter().collect();
                let raw = raw.trim_start().replace("\\`", "`");
                let value: Value =
                    serde_json::from_str(&raw).or_else(|e| syntax(format!("invalid JSON literal `{raw}`: {e}")))?;
                tokens.push(Token::Json(javascript_numbers(value)));
                i = j + 1;
            }
            '<' | '>' | '=' | '!' => {
                let next = chars.get(i + 1).copied();
                let (token, len) = match (c, next) {
                    ('!', Some('=')) => (Token::Comparator(Cmp::Ne), 2),
                    ('!', _) => (Token::Not, 1),
                    ('<', Some('=')) => (Token::Comparator(Cmp::Le), 2),
                    ('<', Some('>')) => (Token::Comparator(Cmp::Ne), 2),
                    ('<', _) => (Token::Comparator(Cmp::Lt), 1),
                    ('>', Some('=')) => (Token::Comparator(Cmp::Ge), 2),
                    ('>', _) => (Token::Comparator(Cmp::Gt), 1),
                    (_, Some('=')) => (Token::Comparator(Cmp::Eq), 2),
                    _ => (Token::Comparator(Cmp::Eq), 1),
                };
                tokens.push(token);
                i += len;
            }
            ' ' | '\t' | '\n' => i += 1,
            '&' => {
                if chars.get(i + 1) == Some(&'&') {
                    tokens.push(Token::And);
                    i += 2;
                } else {
                    let expref = matches!(prev, Some(Token::Comma | Token::LParen));
                    tokens.push(if expref { Token::ExpRef } else { Token::Concatenate });
                    i += 1;
                }
            }
            '~' => {
                tokens.push(Token::Union);
                i += 1;
            }
            '+' => {
                tokens.push(Token::Add);
                i += 1;
            }
            '-' => {
                tokens.push(Token::Subtract);
                i += 1;
            }
            '*' => {
                tokens.push(Token::Star);
                i += 1;
            }
            '/' => {
                tokens.push(Token::Divide);
                i += 1;
            }
            '|' => {
                if chars.get(i + 1) == Some(&'|') {
                    tokens.push(Token::Or);
                    i += 2;
                } else {
                    tokens.push(Token::Pipe);
                    i += 1;
                }
            }
            other => return syntax(format!("unknown character: {other:?}")),
        }
    }
    tokens.push(Token::Eof);
    Ok(tokens)
}

/// `value` with each number as JavaScript holds it (`1.0` is `1`).
fn javascript_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => number_value(as_f64(&n)),
        Value::Array(items) => Value::Array(items.into_iter().map(javascript_numbers).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, javascript_numbers(v))).collect()),
        other => other,
    }
}

/// The text between `quote` at `start` and the next unescaped `quote`, and
/// the position after it.
fn delimited(chars: &[char], start: usize, quote: char) -> Result<(String, usize)> {
    let mut j = start + 1;
    while j < chars.len() && chars[j] != quote {
        let escaped = chars[j] == '\\' && matches!(chars.get(j + 1), Some(c) if *c == '\\' || *c == quote);
        j += if escaped { 2 } else { 1 };
    }
    if j >= chars.len() {
        return syntax(format!("unterminated {quote} at {start}"));
    }
    Ok((chars[start + 1..j].iter().collect(), j + 1))
}

/// `[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?`: an integer, or a number when it has
/// a point or an exponent.
fn number(chars: &[char], start: usize) -> Result<(Token, usize)> {
    let digits = |from: usize| {
        let mut j = from;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut end = digits(start);
    let mut float = false;
    if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(|c| c.is_ascii_digit()) {
        end = digits(end + 1);
        float = true;
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let mut j = end + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            end = digits(j);
            float = true;
        }
    }
    let text: String = chars[start..end].iter().collect();
    if float {
        let value: f64 = text.parse().or_else(|_| syntax(format!("invalid number: {text}")))?;
        return Ok((Token::Number(value), end));
    }
    match text.parse::<i64>() {
        Ok(value) => Ok((Token::Int(value), end)),
        Err(_) => {
            let value: f64 = text.parse().or_else(|_| syntax(format!("invalid number: {text}")))?;
            Ok((Token::Number(value), end))
        }
    }
}

// ---------------------------------------------------------------------------
// Parser (a Pratt parser with the reference's binding powers)

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Identity,
    Current,
    Field(String, bool),
    Global(String),
    Literal(Value),
    Chained(Box<Node>, Box<Node>),
    Bracket(Box<Node>, Box<Node>),
    Index(i64),
    Slice([Option<i64>; 3]),
    Projection(Box<Node>, Box<Node>),
    ValueProjection(Box<Node>, Box<Node>),
    FilterProjection(Box<Node>, Box<Node>, Box<Node>),
    Flatten(Box<Node>),
    Compare(Cmp, Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Negate(Box<Node>),
    Arithmetic(char, Box<Node>, Box<Node>),
    Concatenate(Box<Node>, Box<Node>),
    Union(Box<Node>, Box<Node>),
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
    Pipe(Box<Node>, Box<Node>),
    Function(String, Vec<Node>),
    ExpressionReference(Box<Node>),
}

fn binding_power(token: &Token) -> u8 {
    match token {
        Token::Pipe => 1,
        Token::Or => 2,
        Token::And => 3,
        Token::Comparator(_) => 4,
        Token::Concatenate => 5,
        Token::Add | Token::Subtract | Token::Union => 6,
        Token::Multiply | Token::Divide => 7,
        // `!` and unary `-` bind at 8 as prefixes (`nud`); after an operand,
        // where this table is read, they and `{` end it. A `*` there is
        // read as `Multiply`.
        Token::Flatten => 10,
        Token::Filter => 21,
        Token::Dot => 40,
        Token::LBracket => 55,
        Token::LParen => 60,
        _ => 0,
    }
}

const BP_DOT: u8 = 40;
const BP_STAR: u8 = 20;
const BP_FLATTEN: u8 = 10;
const BP_FILTER: u8 = 21;

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    depth: usize,
}

/// Parses `source`; `globals` are the `$names` it may read (any other `$name`
/// is a field, as in the reference).
pub fn parse(source: &str, globals: &[String]) -> std::result::Result<Expression, FormulaError> {
    let tokens = tokenize(source, globals)?;
    let mut parser = Parser { tokens, index: 0, depth: 0 };
    let root = parser.expression(0)?;
    if parser.peek() != &Token::Eof {
        return syntax(format!("unexpected {:?}", parser.peek()));
    }
    Ok(Expression { root })
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.index).unwrap_or(&Token::Eof)
    }

    fn peek_at(&self, n: usize) -> &Token {
        self.tokens.get(self.index + n).unwrap_or(&Token::Eof)
    }

    /// The next token; past the end, `Eof` again.
    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        self.index += 1;
        token
    }

    fn expect(&mut self, token: Token) -> Result<()> {
        if *self.peek() == token {
            self.advance();
            Ok(())
        } else {
            syntax(format!("expected {token:?}, got {:?}", self.peek()))
        }
    }

    /// After a complete operand, `*` multiplies.
    fn peek_after_operand(&mut self) -> Token {
        if *self.peek() == Token::Star {
            self.tokens[self.index] = Token::Multiply;
        }
        self.peek().clone()
    }

    fn expression(&mut self, rbp: u8) -> Result<Node> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return syntax("expression nested too deeply");
        }
        let token = self.advance();
        let mut left = self.nud(token)?;
        // Each operator applied here nests the tree one level deeper too.
        let mut nested = 0;
        loop {
            let next = self.peek_after_operand();
            if rbp >= binding_power(&next) {
                break;
            }
            self.advance();
            nested += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return syntax("expression nested too deeply");
            }
            left = self.led(next, left)?;
        }
        self.depth -= 1 + nested;
        Ok(left)
    }

    fn nud(&mut self, token: Token) -> Result<Node> {
        Ok(match token {
            Token::String(s) => Node::Literal(Value::String(s)),
            Token::Json(v) => Node::Literal(v),
            Token::Number(n) => Node::Literal(number_value(n)),
            // JavaScript holds every number as a double.
            Token::Int(n) => Node::Literal(number_value(n as f64)),
            Token::Identifier(name) => Node::Field(name, false),
            Token::QuotedIdentifier(name) => Node::Field(name, true),
            Token::Not => Node::Not(Box::new(self.expression(8)?)),
            Token::UnaryMinus => Node::Negate(Box::new(self.expression(8)?)),
            Token::Star => {
                let right =
                    if *self.peek() == Token::RBracket { Node::Identity } else { self.projection_rhs(BP_STAR)? };
                Node::ValueProjection(Box::new(Node::Identity), Box::new(right))
            }
            Token::Filter => self.led(Token::Filter, Node::Identity)?,
            Token::LBrace => self.object()?,
            Token::Flatten => {
                let right = self.projection_rhs(BP_FLATTEN)?;
                Node::Projection(Box::new(Node::Flatten(Box::new(Node::Identity))), Box::new(right))
            }
            Token::LBracket => {
                if self.index_ahead() {
                    let right = self.index_expression()?;
                    return self.project_if_slice(Node::Identity, right);
                }
                if *self.peek() == Token::Star && *self.peek_at(1) == Token::RBracket {
                    self.advance();
                    self.advance();
                    let right = self.projection_rhs(BP_STAR)?;
                    return Ok(Node::Projection(Box::new(Node::Identity), Box::new(right)));
                }
                self.list()?
            }
            Token::Current => Node::Current,
            Token::Global(name) => Node::Global(name),
            Token::ExpRef => Node::ExpressionReference(Box::new(self.expression(0)?)),
            Token::LParen => {
                let mut parts = Vec::new();
                while *self.peek() != Token::RParen {
                    if *self.peek() == Token::Eof {
                        return syntax("unclosed parenthesis");
                    }
                    parts.push(self.expression(0)?);
                }
                self.expect(Token::RParen)?;
                match parts.into_iter().next() {
                    Some(first) => first,
                    None => return syntax("empty parentheses"),
                }
            }
            other => return syntax(format!("unexpected {other:?}")),
        })
    }

    fn led(&mut self, token: Token, left: Node) -> Result<Node> {
        let l = Box::new(left);
        Ok(match token {
            Token::Concatenate => Node::Concatenate(l, Box::new(self.expression(5)?)),
            Token::Dot => {
                if *self.peek() == Token::Star {
                    self.advance();
                    let right = self.projection_rhs(BP_DOT)?;
                    Node::ValueProjection(l, Box::new(right))
                } else {
                    Node::Chained(l, Box::new(self.dot_rhs(BP_DOT)?))
                }
            }
            Token::Pipe => Node::Pipe(l, Box::new(self.expression(1)?)),
            Token::Or => Node::Or(l, Box::new(self.expression(2)?)),
            Token::And => Node::And(l, Box::new(self.expression(3)?)),
            Token::Add => Node::Arithmetic('+', l, Box::new(self.expression(6)?)),
            Token::Subtract => Node::Arithmetic('-', l, Box::new(self.expression(6)?)),
            Token::Multiply => Node::Arithmetic('*', l, Box::new(self.expression(7)?)),
            Token::Divide => Node::Arithmetic('/', l, Box::new(self.expression(7)?)),
            Token::Union => Node::Union(l, Box::new(self.expression(6)?)),
            Token::LParen => {
                let Node::Field(name, false) = *l else {
                    return syntax("a function call needs an unquoted name before the parenthesis");
                };
                let mut args = Vec::new();
                while *self.peek() != Token::RParen {
                    if !args.is_empty() {
                        self.expect(Token::Comma)?;
                    }
                    if *self.peek() == Token::Eof {
                        return syntax("unclosed function call");
                    }
                    args.push(self.expression(0)?);
                }
                self.expect(Token::RParen)?;
                Node::Function(name, args)
            }
            Token::Filter => {
                let condition = self.expression(0)?;
                self.expect(Token::RBracket)?;
                let right = self.projection_rhs(BP_FILTER)?;
                Node::FilterProjection(l, Box::new(right), Box::new(condition))
            }
            Token::Flatten => {
                let right = self.projection_rhs(BP_FLATTEN)?;
                Node::Projection(Box::new(Node::Flatten(l)), Box::new(right))
            }
            Token::Comparator(op) => Node::Compare(op, l, Box::new(self.expression(4)?)),
            Token::LBracket => {
                if *self.peek() == Token::Star && *self.peek_at(1) == Token::RBracket {
                    self.advance();
                    self.advance();
                    let right = self.projection_rhs(BP_STAR)?;
                    return Ok(Node::Projection(l, Box::new(right)));
                }
                let right = self.index_expression()?;
                return self.project_if_slice(*l, right);
            }
            other => return syntax(format!("unexpected {other:?}")),
        })
    }

    fn index_ahead(&self) -> bool {
        let mut n = 0;
        if *self.peek_at(n) == Token::UnaryMinus {
            n += 1;
        }
        if matches!(self.peek_at(n), Token::Int(_)) {
            n += 1;
        }
        matches!(self.peek_at(n), Token::RBracket | Token::Colon)
    }

    fn signed_int(&mut self) -> Result<i64> {
        let negative = *self.peek() == Token::UnaryMinus;
        if negative {
            self.advance();
        }
        match self.advance() {
            Token::Int(n) => Ok(if negative { -n } else { n }),
            other => syntax(format!("expected an integer, got {other:?}")),
        }
    }

    fn index_expression(&mut self) -> Result<Node> {
        if *self.peek() != Token::Colon {
            let start = self.index;
            let first = self.signed_int()?;
            if *self.peek() != Token::Colon {
                self.expect(Token::RBracket)?;
                return Ok(Node::Index(first));
            }
            self.index = start;
        }
        let mut parts = [None, None, None];
        let mut n = 0;
        // At most two colons: a third is refused as no integer.
        while *self.peek() != Token::RBracket {
            if *self.peek() == Token::Colon && n < 2 {
                n += 1;
                self.advance();
            } else {
                parts[n] = Some(self.signed_int()?);
                if !matches!(self.peek(), Token::Colon | Token::RBracket) {
                    return syntax(format!("unexpected {:?} in a slice", self.peek()));
                }
            }
        }
        self.expect(Token::RBracket)?;
        Ok(Node::Slice(parts))
    }

    fn project_if_slice(&mut self, left: Node, right: Node) -> Result<Node> {
        let slice = matches!(right, Node::Slice(_));
        let indexed = Node::Bracket(Box::new(left), Box::new(right));
        if slice {
            let rhs = self.projection_rhs(BP_STAR)?;
            return Ok(Node::Projection(Box::new(indexed), Box::new(rhs)));
        }
        Ok(indexed)
    }

    fn dot_rhs(&mut self, rbp: u8) -> Result<Node> {
        match self.peek() {
            Token::Identifier(_) | Token::QuotedIdentifier(_) | Token::Star => self.expression(rbp),
            Token::LBracket => {
                self.advance();
                self.list()
            }
            Token::LBrace => {
                self.advance();
                self.object()
            }
            other => syntax(format!("expected a name, `*`, `[` or `{{` after a dot, got {other:?}")),
        }
    }

    fn projection_rhs(&mut self, rbp: u8) -> Result<Node> {
        if *self.peek() == Token::Star {
            self.tokens[self.index] = Token::Multiply;
        }
        let next = self.peek().clone();
        if binding_power(&next) <= BP_FLATTEN {
            return Ok(Node::Identity);
        }
        match next {
            Token::LBracket | Token::Filter => self.expression(rbp),
            Token::Dot => {
                self.advance();
                self.dot_rhs(rbp)
            }
            other => syntax(format!("unexpected {other:?} after a projection")),
        }
    }

    fn list(&mut self) -> Result<Node> {
        let mut items = Vec::new();
        while *self.peek() != Token::RBracket {
            if *self.peek() == Token::Eof {
                return syntax("unclosed list");
            }
            items.push(self.expression(0)?);
            if *self.peek() == Token::Comma {
                self.advance();
                if *self.peek() == Token::RBracket {
                    return syntax("unexpected `]` after a comma");
                }
            }
        }
        self.expect(Token::RBracket)?;
        Ok(Node::List(items))
    }

    fn object(&mut self) -> Result<Node> {
        if *self.peek() == Token::RBrace {
            return syntax("an empty object expression is not allowed (use `{}`)");
        }
        let mut pairs = Vec::new();
        loop {
            let key = match self.advance() {
                Token::Identifier(k) | Token::QuotedIdentifier(k) => k,
                other => return syntax(format!("expected a key, got {other:?}")),
            };
            self.expect(Token::Colon)?;
            pairs.push((key, self.expression(0)?));
            match self.peek() {
                Token::Comma => {
                    self.advance();
                }
                Token::RBrace => {
                    self.advance();
                    break;
                }
                Token::Eof => return syntax("unclosed object"),
                _ => {}
            }
        }
        Ok(Node::Object(pairs))
    }
}

// ---------------------------------------------------------------------------
// Values: JavaScript's view of JSON

fn number_value(n: f64) -> Value {
    // Up to 2^53 every whole number is exact, and JavaScript writes it as
    // the integer it is; beyond, its text is rounded (`1e+21` and on).
    if n.is_finite() && n.fract() == 0.0 && n.abs() <= 9.007_199_254_740_992e15 {
        // -0 reads as 0, as JSON.stringify writes it.
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
    }
}

fn as_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(0.0)
}

/// json-formula's truthiness: null, false, 0, "", [] and {} are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => {
            let f = as_f64(n);
            f != 0.0 && !f.is_nan()
        }
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Deep equality with numbers compared as numbers.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => as_f64(x) == as_f64(y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// JavaScript's `Number.prototype.toString` for the numbers JSON carries
/// (never NaN or infinite): the shortest digits that read back as `n`,
/// written out between 1e-7 and 1e21 and in exponent form (`1e+21`,
/// `1.5e-7`) beyond.
fn js_number_string(n: f64) -> String {
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde±x".
    let scientific = format!("{:e}", n.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let point = exponent.parse::<i32>().unwrap_or(0) + 1;
    let count = digits.len() as i32;
    let body = if count <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - count) as usize))
    } else if 0 < point && point <= 21 {
        format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let rest = if count > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        // The exponent with its sign always written: `e+21`, `e-7`.
        format!("{}{rest}e{:+}", &digits[..1], point - 1)
    };
    if n < 0.0 {
        format!("-{body}")
    } else {
        body
    }
}

/// JavaScript's `Number(string)` (NaN when it is not a number).
fn js_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    let radix = |prefix: &str, radix: u32| {
        t.strip_prefix(prefix)
            .or_else(|| t.strip_prefix(&prefix.to_uppercase()))
            .and_then(|digits| u64::from_str_radix(digits, radix).ok())
    };
    if let Some(n) = radix("0x", 16).or_else(|| radix("0o", 8)).or_else(|| radix("0b", 2)) {
        return n as f64;
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let mantissa = unsigned.split(['e', 'E']).next().unwrap_or(unsigned);
    // Rust's parser takes "inf", "NaN" and "infinity", which JavaScript
    // does not: the part before the exponent must be digits and one point.
    // (An exponent that is no number, Rust refuses as JavaScript does.)
    let digits = mantissa.chars().filter(|c| c.is_ascii_digit()).count();
    let mantissa_ok =
        digits > 0 && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.') && mantissa.matches('.').count() <= 1;
    if !mantissa_ok {
        return f64::NAN;
    }
    // Rust's parser does not take "5." or ".5e1" in every form JavaScript does.
    let normalised = format!("{}{}", if t.starts_with('-') { "-" } else { "" }, unsigned.replace(".e", ".0e"));
    let normalised = if normalised.ends_with('.') { format!("{normalised}0") } else { normalised };
    normalised.parse::<f64>().unwrap_or(f64::NAN)
}

/// JavaScript's `Number(value)`: a list reads as its elements joined by
/// commas, an object is NaN.
fn js_value_number(value: &Value) -> f64 {
    fn joined(items: &[Value]) -> String {
        let text: Vec<String> = items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => js_number_string(as_f64(n)),
                Value::String(s) => s.clone(),
                Value::Array(inner) => joined(inner),
                Value::Object(_) => "[object Object]".into(),
            })
            .collect();
        text.join(",")
    }
    match value {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => as_f64(n),
        Value::String(s) => js_number(s),
        Value::Array(items) => js_number(&joined(items)),
        Value::Object(_) => f64::NAN,
    }
}

/// The engine's conversion of a string to a number: NaN reads as 0.
fn string_to_number(s: &str) -> f64 {
    let n = js_number(s);
    if n.is_nan() {
        0.0
    } else {
        n
    }
}

fn to_number(value: &Value) -> Result<f64> {
    match value {
        Value::Null => Ok(0.0),
        Value::Number(n) => Ok(as_f64(n)),
        Value::String(s) => Ok(string_to_number(s)),
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Array(_) => type_error("failed to convert array to number"),
        Value::Object(_) => type_error("failed to convert object to number"),
    }
}

fn to_string(value: &Value) -> Result<String> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(js_number_string(as_f64(n))),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(_) => type_error("failed to convert array to string"),
        Value::Object(_) => type_error("failed to convert object to string"),
    }
}

/// The reference's type lattice for function arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Number,
    Any,
    String,
    Array,
    Object,
    Boolean,
    Null,
    ArrayNumber,
    ArrayString,
    ArrayArray,
    EmptyArray,
}

impl Type {
    fn is_array(self) -> bool {
        matches!(self, Type::Array | Type::ArrayNumber | Type::ArrayString | Type::ArrayArray | Type::EmptyArray)
    }

    fn name(self) -> &'static str {
        match self {
            Type::Number => "number",
            Type::Any => "any",
            Type::String => "string",
            Type::Array | Type::EmptyArray => "array",
            Type::Object => "object",
            Type::Boolean => "boolean",
            Type::Null => "null",
            Type::ArrayNumber => "Array<number>",
            Type::ArrayString => "Array<string>",
            Type::ArrayArray => "Array<array>",
        }
    }
}

fn flat_all(items: &[Value], test: &dyn Fn(&Value) -> bool) -> bool {
    items.iter().all(|v| match v {
        Value::Array(inner) => flat_all(inner, test),
        other => test(other),
    })
}

fn type_of(value: &Value) -> Type {
    match value {
        Value::Null => Type::Null,
        Value::Bool(_) => Type::Boolean,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::Object(_) => Type::Object,
        Value::Array(items) => {
            if items.is_empty() {
                Type::EmptyArray
            } else if flat_all(items, &|v| v.is_number()) {
                Type::ArrayNumber
            } else if flat_all(items, &|v| v.is_string()) {
                Type::ArrayString
            } else if items.iter().all(|v| type_of(v).is_array()) {
                Type::ArrayArray
            } else {
                Type::Array
            }
        }
    }
}

fn converts(from: Type, to: Type) -> bool {
    use Type::*;
    let targets: &[Type] = match from {
        Number => &[String, Array, ArrayNumber, Boolean],
        Boolean => &[String, Number, Array],
        Array => &[Boolean, ArrayString, ArrayNumber],
        ArrayNumber => &[Boolean, ArrayString, Array],
        ArrayString => &[Boolean, ArrayNumber, Array],
        ArrayArray | EmptyArray | Object => &[Boolean],
        Null => &[String, Number, Boolean],
        String => &[Number, ArrayString, Array, Boolean],
        Any => &[],
    };
    targets.contains(&to)
}

/// Coerces a function argument to one of the types the function takes, as
/// the reference does (or refuses, naming the function).
fn match_type(expected: &[Type], value: Value, function: &str) -> Result<Value> {
    let actual = type_of(&value);
    let matches = |e: Type| {
        e == actual
            || e == Type::Any
            || (e == Type::Array && actual.is_array())
            || (e.is_array() && actual == Type::EmptyArray)
    };
    if expected.iter().any(|e| matches(*e)) {
        return Ok(value);
    }
    let candidates: Vec<Type> = expected.iter().copied().filter(|t| converts(actual, *t)).collect();
    let refused = || {
        type_error(format!(
            "{function}() expected argument to be type {} but received type {} instead",
            expected[0].name(),
            actual.name()
        ))
    };
    let Some(&target) = candidates.first() else { return refused() };
    if candidates.len() > 1 {
        let names: Vec<&str> = expected.iter().map(|t| t.name()).collect();
        return type_error(format!(
            "{function}() cannot process type: {}; must be one of: {}",
            actual.name(),
            names.join(", ")
        ));
    }
    // The functions here ask for strings, lists, lists of strings and
    // objects, so a conversion lands on a string, a list or a list of
    // strings; the reference's other targets (number, boolean, list of
    // numbers) are never asked for. Only a scalar converts to a string or
    // a list (a list converts to neither, an object to a boolean alone).
    match (&value, target) {
        // An object in the list is refused by `to_string`.
        (Value::Array(_), Type::ArrayString) => {
            fn deep(v: &Value) -> Result<Value> {
                match v {
                    Value::Array(items) => Ok(Value::Array(items.iter().map(deep).collect::<Result<_>>()?)),
                    other => to_string(other).map(Value::String),
                }
            }
            deep(&value)
        }
        (_, Type::Array) => Ok(Value::Array(vec![value])),
        (_, Type::String) => Ok(Value::String(to_string(&value)?)),
        _ => refused(),
    }
}

// ---------------------------------------------------------------------------
// Evaluation

/// A named expression called as a function: its body and how many
/// arguments it takes (passed in the global `$args`).
#[derive(Debug, Clone)]
struct Named {
    body: std::result::Result<Expression, FormulaError>,
    arity: usize,
}

/// Globals, and named expressions callable as functions, over which
/// expressions are evaluated.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    globals: HashMap<String, Value>,
    named: HashMap<String, Named>,
}

const BUILTINS: &[&str] =
    &["contains", "endsWith", "if", "keys", "length", "notNull", "split", "startsWith", "type", "values"];

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the global `$name` (name with its `$`).
    pub fn set_global(&mut self, name: &str, value: Value) {
        self.globals.insert(name.to_string(), value);
    }

    /// Defines `name(…)` as `body` taking `arity` arguments, which the body
    /// reads as `$args[0]`, `$args[1]`, …; `@` stays the caller's. A body
    /// that does not parse makes its calls fail, not the definition.
    pub fn define(&mut self, name: &str, body: std::result::Result<Expression, FormulaError>, arity: usize) {
        self.named.insert(name.to_string(), Named { body, arity });
    }

    /// Evaluates `expression` against `data`.
    pub fn search(&self, expression: &Expression, data: &Value) -> std::result::Result<Value, FormulaError> {
        let mut run = Run { engine: self, args: None, root: None, calls: 0, depth: 0 };
        run.visit(&expression.root, data)
    }

    /// [`Engine::search`] on shared data: a named expression given the
    /// whole of it (`f(@)`) shares it instead of copying it, so many
    /// expressions over one document copy it never.
    pub fn search_shared(
        &self,
        expression: &Expression,
        data: &std::rc::Rc<Value>,
    ) -> std::result::Result<Value, FormulaError> {
        let mut run = Run { engine: self, args: None, root: Some(data.clone()), calls: 0, depth: 0 };
        run.visit(&expression.root, data)
    }
}

struct Run<'e> {
    engine: &'e Engine,
    /// `$args` of the named expression being evaluated.
    args: Option<Args>,
    /// The document searched, when shared: `@` at its top is passed to a
    /// named expression without a copy.
    root: Option<std::rc::Rc<Value>>,
    calls: usize,
    depth: usize,
}

fn field(value: &Value, name: &str) -> Value {
    match value {
        Value::Object(map) => map.get(name).cloned().unwrap_or(Value::Null),
        // An array's own properties are its indexes.
        Value::Array(items) => name
            .parse::<usize>()
            .ok()
            .filter(|i| i.to_string() == name)
            .and_then(|i| items.get(i).cloned())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `null`, to borrow.
static NULL: Value = Value::Null;

/// Where a pure path (`@`, names, indexes, `$globals`) leads from `value`,
/// borrowed: `None` if `node` is not one.
/// The arguments of the named expression being evaluated, each shared: an
/// argument passed on as `$args[i]` to the next named expression is not
/// copied (a rubric passes whole manifests down chains of them).
type Args = std::rc::Rc<Vec<std::rc::Rc<Value>>>;

/// `$args[i]` when `node` is exactly that.
fn args_index(node: &Node) -> Option<i64> {
    match node {
        Node::Bracket(left, right) | Node::Chained(left, right) => match (&**left, &**right) {
            (Node::Global(name), Node::Index(i)) if name == "$args" => Some(*i),
            _ => None,
        },
        _ => None,
    }
}

fn arg_at(args: &[std::rc::Rc<Value>], i: i64) -> Option<&std::rc::Rc<Value>> {
    let i = if i < 0 { args.len() as i64 + i } else { i };
    usize::try_from(i).ok().and_then(|i| args.get(i))
}

fn path<'v>(
    node: &Node,
    value: &'v Value,
    engine: &'v Engine,
    args: Option<&'v [std::rc::Rc<Value>]>,
) -> Option<&'v Value> {
    if let (Some(i), Some(args)) = (args_index(node), args) {
        return Some(arg_at(args, i).map(|a| &**a).unwrap_or(&NULL));
    }
    Some(match node {
        Node::Identity | Node::Current => value,
        Node::Field(name, _) => match value {
            Value::Object(map) => map.get(name).unwrap_or(&NULL),
            Value::Array(items) => name
                .parse::<usize>()
                .ok()
                .filter(|i| i.to_string() == *name)
                .and_then(|i| items.get(i))
                .unwrap_or(&NULL),
            _ => &NULL,
        },
        Node::Index(i) => match value {
            Value::Array(items) => {
                let i = if *i < 0 { items.len() as i64 + i } else { *i };
                usize::try_from(i).ok().and_then(|i| items.get(i)).unwrap_or(&NULL)
            }
            _ => &NULL,
        },
        Node::Global(name) => match (name.as_str(), args) {
            // The whole list is built by `visit`, not borrowed.
            ("$args", Some(_)) => return None,
            _ => engine.globals.get(name).unwrap_or(&NULL),
        },
        Node::Chained(left, right) | Node::Bracket(left, right) => {
            path(right, path(left, value, engine, args)?, engine, args)?
        }
        _ => return None,
    })
}

impl Run<'_> {
    /// Runs `f` on what `node` gives from `value`: borrowed in place when
    /// `node` is a path (a projection over a list need not copy the list).
    fn with_base<R>(
        &mut self,
        node: &Node,
        value: &Value,
        f: impl FnOnce(&mut Self, &Value) -> Result<R>,
    ) -> Result<R> {
        let (engine, args) = (self.engine, self.args.clone());
        if let Some(found) = path(node, value, engine, args.as_deref().map(Vec::as_slice)) {
            return f(self, found);
        }
        let owned = self.visit(node, value)?;
        f(self, &owned)
    }

    fn visit(&mut self, node: &Node, value: &Value) -> Result<Value> {
        // Named expressions nest their bodies' depth: bounded as a whole.
        self.depth += 1;
        let result = if self.depth > MAX_EVAL_DEPTH {
            Err(FormulaError::Evaluation("expression nested too deeply".into()))
        } else {
            self.visit_node(node, value)
        };
        self.depth -= 1;
        result
    }

    fn visit_node(&mut self, node: &Node, value: &Value) -> Result<Value> {
        Ok(match node {
            Node::Identity | Node::Current => value.clone(),
            Node::Field(name, _) => field(value, name),
            Node::Global(name) => match (name.as_str(), &self.args) {
                ("$args", Some(args)) => Value::Array(args.iter().map(|a| Value::clone(a)).collect()),
                _ => self.engine.globals.get(name).cloned().unwrap_or(Value::Null),
            },
            Node::Literal(v) => v.clone(),
            Node::Chained(left, right) | Node::Bracket(left, right) | Node::Pipe(left, right) => {
                // `$args[N]` is the one argument: the whole `$args` list,
                // which holds the manifest, is not copied to index it (the
                // signals rubric compares `$args[1]` inside a filter, once
                // per action).
                if let (Some(i), Some(args)) = (args_index(node), &self.args) {
                    return Ok(arg_at(args, i).map(|a| Value::clone(a)).unwrap_or(Value::Null));
                }
                // A path on the left is followed in place, not copied.
                let (engine, args) = (self.engine, self.args.clone());
                if let Some(l) = path(left, value, engine, args.as_deref().map(Vec::as_slice)) {
                    return self.visit(right, l);
                }
                let l = self.visit(left, value)?;
                self.visit(right, &l)?
            }
            Node::Index(i) => match value {
                Value::Array(items) => {
                    let i = if *i < 0 { items.len() as i64 + i } else { *i };
                    usize::try_from(i).ok().and_then(|i| items.get(i)).cloned().unwrap_or(Value::Null)
                }
                _ => Value::Null,
            },
            Node::Compare(op, left, right) => {
                let l = self.visit(left, value)?;
                let r = self.visit(right, value)?;
                Value::Bool(compare(*op, &l, &r))
            }
            Node::Or(left, right) => {
                let l = self.visit(left, value)?;
                if truthy(&l) {
                    l
                } else {
                    self.visit(right, value)?
                }
            }
            Node::And(left, right) => {
                let l = self.visit(left, value)?;
                if !truthy(&l) {
                    l
                } else {
                    self.visit(right, value)?
                }
            }
            Node::Not(inner) => Value::Bool(!truthy(&self.visit(inner, value)?)),
            Node::Function(name, args) => self.call(name, args, value)?,
            _ => self.visit_compound(node, value)?,
        })
    }

    /// The rarer nodes, apart so that the common path's stack frame stays
    /// small (expressions nest deeply, and each level is a frame).
    #[inline(never)]
    fn visit_compound(&mut self, node: &Node, value: &Value) -> Result<Value> {
        Ok(match node {
            Node::Slice(parts) => match value {
                Value::Array(items) => slice(items, parts)?,
                _ => Value::Null,
            },
            Node::Projection(left, right) => self.with_base(left, value, |run, base| {
                Ok(match base {
                    Value::Array(items) => {
                        Value::Array(items.iter().map(|b| run.visit(right, b)).collect::<Result<_>>()?)
                    }
                    _ => Value::Null,
                })
            })?,
            Node::ValueProjection(left, right) => self.with_base(left, value, |run, base| {
                Ok(match base {
                    Value::Object(map) => {
                        Value::Array(map.values().map(|b| run.visit(right, b)).collect::<Result<_>>()?)
                    }
                    _ => Value::Null,
                })
            })?,
            Node::FilterProjection(left, right, condition) => self.with_base(left, value, |run, base| {
                Ok(match base {
                    Value::Array(items) => {
                        let mut out = Vec::new();
                        for item in items {
                            if truthy(&run.visit(condition, item)?) {
                                out.push(run.visit(right, item)?);
                            }
                        }
                        Value::Array(out)
                    }
                    _ => Value::Null,
                })
            })?,
            Node::Flatten(inner) => self.with_base(inner, value, |_, base| {
                Ok(match base {
                    Value::Array(items) => {
                        let mut out = Vec::new();
                        for item in items {
                            match item {
                                Value::Array(inner) => out.extend(inner.iter().cloned()),
                                other => out.push(other.clone()),
                            }
                        }
                        Value::Array(out)
                    }
                    _ => Value::Null,
                })
            })?,
            Node::Negate(inner) => {
                // The reference computes `value * -1`: JavaScript's own
                // conversion, where a string that is no number is NaN.
                let v = self.visit(inner, value)?;
                let n = js_value_number(&v);
                if n.is_nan() {
                    return type_error(format!("failed to convert {v} to number"));
                }
                number_value(-n)
            }
            Node::Arithmetic(op, left, right) => {
                let l = self.visit(left, value)?;
                let r = self.visit(right, value)?;
                let (l, r) = balance(l, r);
                arithmetic(*op, &l, &r)?
            }
            Node::Concatenate(left, right) => {
                let l = self.visit(left, value)?;
                let r = self.visit(right, value)?;
                let (l, r) = balance(l, r);
                let coerce = |v: Value| {
                    let target = if type_of(&v).is_array() { Type::ArrayString } else { Type::String };
                    match_type(&[target], v, "concatenate")
                };
                arithmetic('&', &coerce(l)?, &coerce(r)?)?
            }
            Node::Union(left, right) => {
                let as_list = |v: Value| match v {
                    Value::Null => Ok(vec![Value::Null]),
                    other => match match_type(&[Type::Array], other, "union")? {
                        Value::Array(items) => Ok(items),
                        _ => type_error("union needs arrays"),
                    },
                };
                let mut l = as_list(self.visit(left, value)?)?;
                l.extend(as_list(self.visit(right, value)?)?);
                Value::Array(l)
            }
            Node::List(items) => Value::Array(items.iter().map(|n| self.visit(n, value)).collect::<Result<_>>()?),
            Node::Object(pairs) => {
                let mut map = Map::new();
                for (key, node) in pairs {
                    let v = self.visit(node, value)?;
                    map.insert(key.clone(), v);
                }
                Value::Object(map)
            }
            // `visit_node` takes every other node: what is left is `&expr`.
            _ => return type_error("expression references are not supported by vouch's engine"),
        })
    }

    #[inline(never)]
    fn call(&mut self, name: &str, args: &[Node], data: &Value) -> Result<Value> {
        if name == "if" {
            if args.len() != 3 {
                return Err(FormulaError::Function(format!("if() takes 3 arguments but received {}", args.len())));
            }
            let condition = self.visit(&args[0], data)?;
            return self.visit(if truthy(&condition) { &args[1] } else { &args[2] }, data);
        }
        // The engine outlives the run: its named expressions are borrowed,
        // not copied on every call.
        let engine = self.engine;
        if let Some(named) = engine.named.get(name) {
            return self.call_named(name, named, args, data);
        }
        if !BUILTINS.contains(&name) {
            return Err(FormulaError::Function(format!("no such function: {name}()")));
        }
        let resolved: Vec<Value> = args.iter().map(|a| self.visit(a, data)).collect::<Result<_>>()?;
        builtin(name, resolved)
    }

    #[inline(never)]
    fn call_named(&mut self, name: &str, named: &Named, args: &[Node], data: &Value) -> Result<Value> {
        if named.arity == 0 && !args.is_empty() {
            return Err(FormulaError::Function(format!("{name}() does not accept parameters")));
        }
        if named.arity > 0 && args.len() != named.arity {
            return Err(FormulaError::Function(format!(
                "{name}() takes {} argument{} but received {}",
                named.arity,
                if named.arity == 1 { "" } else { "s" },
                args.len()
            )));
        }
        let resolved: Vec<std::rc::Rc<Value>> = args
            .iter()
            .map(|a| match (args_index(a), &self.args, &self.root) {
                (Some(i), Some(current), _) => {
                    Ok(arg_at(current, i).cloned().unwrap_or_else(|| std::rc::Rc::new(Value::Null)))
                }
                // The root is borrowed for the whole run, so its address
                // names it alone.
                (None, _, Some(root)) if matches!(a, Node::Current | Node::Identity) && std::ptr::eq(data, &**root) => {
                    Ok(root.clone())
                }
                _ => self.visit(a, data).map(std::rc::Rc::new),
            })
            .collect::<Result<_>>()?;
        let body = match &named.body {
            Ok(body) => body,
            Err(e) => return Err(FormulaError::Evaluation(format!("expression '{name}' failed to compile: {e}"))),
        };
        self.calls += 1;
        if self.calls > MAX_CALL_DEPTH {
            return Err(FormulaError::Evaluation(format!("{name}(): named expressions call each other too deeply")));
        }
        let saved = if named.arity > 0 { Some(self.args.replace(std::rc::Rc::new(resolved))) } else { None };
        let result = self.visit(&body.root, data);
        if let Some(saved) = saved {
            self.args = saved;
        }
        self.calls -= 1;
        result
    }
}

fn slice(items: &[Value], parts: &[Option<i64>; 3]) -> Result<Value> {
    let len = items.len() as i64;
    let step = parts[2].unwrap_or(1);
    if step == 0 {
        return Err(FormulaError::Evaluation("invalid slice, step cannot be 0".into()));
    }
    // `step` is not 0: a walk goes one way or the other.
    let backwards = step < 0;
    // A bound beyond an end is brought back to the first (or last) index
    // the walk may take, which sets the phase of a step beyond 1.
    let cap = |actual: i64| {
        if actual < 0 {
            (actual + len).max(if backwards { -1 } else { 0 })
        } else if actual >= len {
            if backwards {
                len - 1
            } else {
                len
            }
        } else {
            actual
        }
    };
    let start = parts[0].map(cap).unwrap_or(if backwards { len - 1 } else { 0 });
    let stop = parts[1].map(cap).unwrap_or(if backwards { -1 } else { len });
    let mut out = Vec::new();
    let mut i = start;
    while if backwards { i > stop } else { i < stop } {
        if let Some(v) = usize::try_from(i).ok().and_then(|i| items.get(i)) {
            out.push(v.clone());
        }
        i += step;
    }
    Ok(Value::Array(out))
}

/// Two lists are padded with nulls to the same length before an operator
/// applies element by element.
fn balance(l: Value, r: Value) -> (Value, Value) {
    match (l, r) {
        (Value::Array(mut a), Value::Array(mut b)) => {
            let n = a.len().max(b.len());
            a.resize(n, Value::Null);
            b.resize(n, Value::Null);
            (Value::Array(a), Value::Array(b))
        }
        pair => pair,
    }
}

fn arithmetic(op: char, l: &Value, r: &Value) -> Result<Value> {
    match (l, r) {
        (Value::Array(a), Value::Array(b)) => {
            Ok(Value::Array(a.iter().zip(b).map(|(x, y)| arithmetic(op, x, y)).collect::<Result<_>>()?))
        }
        (Value::Array(a), other) => {
            Ok(Value::Array(a.iter().map(|x| arithmetic(op, x, other)).collect::<Result<_>>()?))
        }
        (other, Value::Array(b)) => {
            Ok(Value::Array(b.iter().map(|y| arithmetic(op, other, y)).collect::<Result<_>>()?))
        }
        _ if op == '&' => Ok(Value::String(format!("{}{}", to_string(l)?, to_string(r)?))),
        _ => {
            let (x, y) = (to_number(l)?, to_number(r)?);
            let n = match op {
                '+' => x + y,
                '-' => x - y,
                '*' => x * y,
                _ => {
                    let q = x / y;
                    if !q.is_finite() {
                        return Err(FormulaError::Evaluation(format!("division by zero {x}/{y}")));
                    }
                    q
                }
            };
            Ok(number_value(n))
        }
    }
}

/// A comparison as the reference makes it: `==`/`!=` deep; ordering false
/// on lists and objects, numeric when either side is a number, otherwise
/// JavaScript's (strings by code unit, the rest as numbers).
fn compare(op: Cmp, l: &Value, r: &Value) -> bool {
    match op {
        Cmp::Eq => return equal(l, r),
        Cmp::Ne => return !equal(l, r),
        _ => {}
    }
    // A list or an object is no number: NaN, and NaN orders with nothing.
    let ordering = match (l, r) {
        (Value::String(a), Value::String(b)) => {
            let (a, b): (Vec<u16>, Vec<u16>) = (a.encode_utf16().collect(), b.encode_utf16().collect());
            Some(a.cmp(&b))
        }
        _ => {
            let numeric = l.is_number() || r.is_number();
            let as_number = |v: &Value| match v {
                // Outside a numeric comparison a string that is no number is NaN.
                Value::String(s) if !numeric => js_number(s),
                other => to_number(other).unwrap_or(f64::NAN),
            };
            as_number(l).partial_cmp(&as_number(r))
        }
    };
    let Some(ordering) = ordering else { return false };
    match op {
        Cmp::Lt => ordering.is_lt(),
        Cmp::Le => ordering.is_le(),
        Cmp::Gt => ordering.is_gt(),
        _ => ordering.is_ge(),
    }
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<()> {
    if args.len() != n {
        return Err(FormulaError::Function(format!(
            "{name}() takes {n} argument{} but received {}",
            if n == 1 { "" } else { "s" },
            args.len()
        )));
    }
    Ok(())
}

/// `fn` over string arguments, element by element when any is a list
/// (shorter lists padded with null).
fn per_element(args: &[Value], f: &dyn Fn(&[Value]) -> Result<Value>) -> Result<Value> {
    let longest = args.iter().filter_map(Value::as_array).map(Vec::len).max();
    let Some(n) = longest else { return f(args) };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let row: Vec<Value> = args
            .iter()
            .map(|a| match a {
                Value::Array(items) => items.get(i).cloned().unwrap_or(Value::Null),
                other => other.clone(),
            })
            .collect();
        out.push(per_element(&row, f)?);
    }
    Ok(Value::Array(out))
}

#[inline(never)]
fn builtin(name: &str, args: Vec<Value>) -> Result<Value> {
    use Type::*;
    let typed = |args: Vec<Value>, types: &[&[Type]]| -> Result<Vec<Value>> {
        arity(name, &args, types.len())?;
        args.into_iter().zip(types).map(|(v, t)| match_type(t, v, name)).collect()
    };
    match name {
        "keys" | "values" => {
            let args = typed(args, &[&[Object]])?;
            let Some(Value::Object(map)) = args.into_iter().next() else {
                return type_error(format!("{name}() needs an object"));
            };
            Ok(Value::Array(if name == "keys" {
                map.keys().map(|k| Value::String(k.clone())).collect()
            } else {
                map.into_iter().map(|(_, v)| v).collect()
            }))
        }
        "length" => {
            let args = typed(args, &[&[String, Array, Object]])?;
            Ok(Value::from(match &args[0] {
                Value::Object(map) => map.len(),
                Value::Array(items) => items.len(),
                other => to_string(other)?.chars().count(),
            }))
        }
        "contains" => {
            let args = typed(args, &[&[String, Array], &[Any]])?;
            match (&args[0], &args[1]) {
                (Value::Array(items), search) => Ok(Value::Bool(items.iter().any(|i| equal(i, search)))),
                (subject, Value::String(search)) => Ok(Value::Bool(to_string(subject)?.contains(search.as_str()))),
                _ => type_error("contains() requires a string search value for string subjects"),
            }
        }
        "startsWith" | "endsWith" | "split" => {
            let args = typed(args, &[&[String, ArrayString], &[String, ArrayString]])?;
            per_element(&args, &|pair| {
                let subject = &pair[0];
                let other = &pair[1];
                match name {
                    "startsWith" => Ok(Value::Bool(to_string(subject)?.starts_with(&to_string(other)?))),
                    "endsWith" => match (subject, other) {
                        (Value::String(s), Value::String(suffix)) => Ok(Value::Bool(s.ends_with(suffix.as_str()))),
                        _ => type_error("endsWith() needs strings"),
                    },
                    _ => {
                        let text = to_string(subject)?;
                        let separator = to_string(other)?;
                        let parts: Vec<Value> = if separator.is_empty() {
                            text.chars().map(|c| Value::String(c.to_string())).collect()
                        } else {
                            text.split(separator.as_str()).map(|p| Value::String(p.to_string())).collect()
                        };
                        Ok(Value::Array(parts))
                    }
                }
            })
        }
        "notNull" => {
            if args.is_empty() {
                return Err(FormulaError::Function("notNull() takes at least 1 argument but received 0".into()));
            }
            Ok(args.into_iter().find(|a| !a.is_null()).unwrap_or(Value::Null))
        }
        "type" => {
            arity(name, &args, 1)?;
            Ok(match type_of(&args[0]) {
                // The reference names no type for an empty list.
                EmptyArray => Value::Null,
                t if t.is_array() => Value::String("array".into()),
                t => Value::String(t.name().into()),
            })
        }
        other => Err(FormulaError::Function(format!("no such function: {other}()"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expression: &str, data: Value) -> Result<Value> {
        let engine = Engine::new();
        engine.search(&parse(expression, &[])?, &data)
    }

    #[test]
    fn paths_filters_and_projections() {
        let doc = json!({ "a": { "b.c": [{ "x": 1, "y": "p" }, { "x": 2 }, { "x": 3, "y": "q" }] } });
        assert_eq!(eval("a.'b.c'[0].x", doc.clone()), Ok(json!(1)));
        assert_eq!(eval("a.'b.c'[-1].y", doc.clone()), Ok(json!("q")));
        assert_eq!(eval("a.'b.c'[?x > 1].x", doc.clone()), Ok(json!([2, 3])));
        // Projections keep nulls, unlike JMESPath.
        assert_eq!(eval("a.'b.c'[].y", doc.clone()), Ok(json!(["p", null, "q"])));
        assert_eq!(eval("a.'b.c'[?x > 1].y", doc.clone()), Ok(json!([null, "q"])));
        assert_eq!(eval("a.'b.c'[?y != null] | [0].x", doc.clone()), Ok(json!(1)));
        assert_eq!(eval("a.nothing[?x].y", doc), Ok(Value::Null));
    }

    #[test]
    fn or_and_return_operands_and_empty_things_are_false() {
        assert_eq!(eval("a || `{}`", json!({})), Ok(json!({})));
        assert_eq!(eval("a || b", json!({ "a": [], "b": 5 })), Ok(json!(5)));
        assert_eq!(eval("a && `[\"x\"]` || `[]`", json!({ "a": "y" })), Ok(json!(["x"])));
        assert_eq!(eval("!a", json!({ "a": {} })), Ok(json!(true)));
    }

    #[test]
    fn comparisons_coerce_as_the_reference_does() {
        assert_eq!(eval("\"4\" >= `\"4\"`", json!(null)), Ok(json!(true)));
        assert_eq!(eval("\"10\" > \"9\"", json!(null)), Ok(json!(false)));
        assert_eq!(eval("\"10\" * 1 > 9", json!(null)), Ok(json!(true)));
        assert_eq!(eval("`1` == `1.0`", json!(null)), Ok(json!(true)));
        assert_eq!(eval("a > 1", json!({ "a": [2] })), Ok(json!(false)));
    }

    #[test]
    fn functions_coerce_their_arguments() {
        assert_eq!(eval("startsWith(a, \"c2pa.\")", json!({})), Ok(json!(false)));
        assert_eq!(eval("contains(a, \"x\")", json!({ "a": "xyz" })), Ok(json!(true)));
        assert_eq!(eval("split(\"2.4\", \".\")[1]", json!(null)), Ok(json!("4")));
        assert_eq!(eval("length(a)", json!({})), Ok(json!(0)));
        assert!(matches!(eval("length(`3`)", json!(null)), Err(FormulaError::Type(_))));
        assert!(matches!(eval("keys(a)", json!({})), Err(FormulaError::Type(_))));
        assert_eq!(eval("notNull(a, b, \"z\")", json!({ "b": 0 })), Ok(json!(0)));
        assert_eq!(eval("if(a, \"yes\", nope())", json!({ "a": 1 })), Ok(json!("yes")));
        assert_eq!(eval("type(a)", json!({ "a": [1] })), Ok(json!("array")));
        assert!(matches!(eval("nope()", json!(null)), Err(FormulaError::Function(_))));
    }

    #[test]
    fn named_expressions_take_their_arguments_in_args() {
        let globals = vec!["$args".to_string(), "$want".to_string()];
        let mut engine = Engine::new();
        engine.set_global("$want", json!("b"));
        engine.define("_pick", parse("$args[0][? name == $args[1]]", &globals), 2);
        engine.define("_first", parse("items[0]", &globals), 0);
        let data = json!({ "items": [{ "name": "a" }, { "name": "b" }] });
        let e = parse("_pick(items, $want)[0].name", &globals).unwrap();
        assert_eq!(engine.search(&e, &data), Ok(json!("b")));
        assert_eq!(engine.search(&parse("_first().name", &globals).unwrap(), &data), Ok(json!("a")));
        assert!(engine.search(&parse("_first(1)", &globals).unwrap(), &data).is_err());
        // A named expression calling itself is refused, not a stack overflow.
        engine.define("_loop", parse("_loop()", &globals), 0);
        assert!(engine.search(&parse("_loop()", &globals).unwrap(), &data).is_err());
        let deep = format!("{}_deep(){}", "(!".repeat(90), ")".repeat(90));
        engine.define("_deep", parse(&deep, &globals), 0);
        assert!(engine.search(&parse("_deep()", &globals).unwrap(), &data).is_err());
    }

    /// Equal as JavaScript writes them: the same number, whole numbers as
    /// whole numbers (`1`, never `1.0`), except beyond 2^53, where the text
    /// JavaScript prints is itself rounded.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (p, q) = (x.as_f64(), y.as_f64());
                p == q && (p.is_some_and(|p| p.abs() > 9_007_199_254_740_992.0) || x.is_f64() == y.is_f64())
            }
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }

    /// Every case of `tests/rubric/formula-cases.json` gives what the
    /// reference engine gave for it (`tests/rubric.rs` checks those results
    /// are still the reference's): the same value, or an error on both sides.
    #[test]
    fn every_case_gives_what_the_reference_json_formula_gives() {
        let cases: Value = serde_json::from_str(include_str!("../../tests/rubric/formula-cases.json")).unwrap();
        let mut checked = 0;
        let mut wrong = Vec::new();
        for group in cases["groups"].as_array().unwrap() {
            // The group's variables and named expressions, in scope as a rubric puts them.
            let metadata = json!({ "variables": group["variables"], "expressions": group["expressions"] });
            let text = format!("{metadata}\n---\n[{{\"id\": \"case:any\", \"expression\": \"true\"}}]\n");
            let rubric = crate::rubric::Rubric::parse(&text, std::path::Path::new("cases.yml"), None).unwrap();
            for case in group["cases"].as_array().unwrap() {
                let (expression, reference) = (case[0].as_str().unwrap(), &case[1]);
                // Evaluated on a copy of the data, and on data shared with
                // named expressions (as the signals rubric evaluates).
                let parsed = parse(expression.trim(), &rubric.global_names);
                let data = std::rc::Rc::new(group["data"].clone());
                let plain = parsed.clone().and_then(|e| rubric.engine.search(&e, &data));
                let shared = parsed.and_then(|e| rubric.engine.search_shared(&e, &data));
                for (how, ours) in [("copied", plain), ("shared", shared)] {
                    let agrees = match (&ours, reference.get("ok")) {
                        (Ok(value), Some(expected)) => same(value, expected),
                        (Err(_), None) => reference.get("error").is_some(),
                        _ => false,
                    };
                    if !agrees {
                        wrong.push(format!("{expression} ({how})\n  vouch: {ours:?}\n  json-formula: {reference}"));
                    }
                }
                checked += 1;
            }
        }
        assert!(wrong.is_empty(), "{} of {checked} cases differ:\n{}", wrong.len(), wrong.join("\n"));
        assert!(checked > 700, "{checked}");
    }

    #[test]
    fn a_long_list_is_not_deep_nesting() {
        // Each element is visited in turn: the depth bound counts nesting, not
        // how many nodes an expression visits in all.
        let items: Vec<Value> = (0..1000).map(|i| json!({ "a": i, "b": [i] })).collect();
        let data = json!({ "items": items });
        assert_eq!(eval("length(items[?a >= `0`].b[0] || `[]`)", data.clone()), Ok(json!(1000)));
        assert_eq!(eval("items[*].{x: a}[-1].x", data.clone()), Ok(json!(999)));
        assert_eq!(eval("[items[*].a, items[*].a][1][999]", data.clone()), Ok(json!(999)));
        // Nor are many calls of a named expression, one after another.
        let globals = vec!["$args".to_string()];
        let mut engine = Engine::new();
        engine.define("_double", parse("$args[0] * `2`", &globals), 1);
        let e = parse("items[*]._double(a) | [-1]", &globals).unwrap();
        assert_eq!(engine.search(&e, &data), Ok(json!(1998)));
    }

    /// The bounds are exact: 200 levels of syntax, 400 of evaluation, 64
    /// named expressions calling each other.
    #[test]
    fn nesting_is_refused_one_level_beyond_each_bound() {
        let data = json!({});
        let nots = |n: usize| "!".repeat(n);
        // `!` × k nests k + 1 levels; each `[0]` after an operand one more.
        assert!(parse(&format!("{}a", nots(199)), &[]).is_ok());
        assert!(parse(&format!("{}a", nots(200)), &[]).is_err());
        assert!(parse(&format!("a{}", "[0]".repeat(199)), &[]).is_ok());
        assert!(parse(&format!("a{}", "[0]".repeat(200)), &[]).is_err());

        // _a's body evaluates 198 + 1 levels, _b's 199 + 1: with the call
        // of _a itself, 400.
        let mut engine = Engine::new();
        engine.define("_a", parse(&format!("{}_b()", nots(198)), &[]), 0);
        engine.define("_b", parse(&format!("{}@", nots(199)), &[]), 0);
        engine.define("_top", parse("_a()", &[]), 0);
        assert_eq!(engine.search(&parse("_a()", &[]).unwrap(), &data), Ok(json!(true)));
        assert!(engine.search(&parse("_top()", &[]).unwrap(), &data).is_err());

        // _c63 calls down to _c0: 64 calls.
        engine.define("_c0", parse("`1`", &[]), 0);
        for k in 1..=64 {
            engine.define(&format!("_c{k}"), parse(&format!("_c{}()", k - 1), &[]), 0);
        }
        assert_eq!(engine.search(&parse("_c63()", &[]).unwrap(), &data), Ok(json!(1)));
        assert!(engine.search(&parse("_c64()", &[]).unwrap(), &data).is_err());
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for source in
            ["", "a.", "[?", "`{", "'x", "\"x", "a[b]", "f(", "((((", "{}", "a ||", "@@", "-", "a[1:2:0]", "\r"]
        {
            let _ = eval(source, json!({ "a": [1, 2] }));
        }
        let deep = "(".repeat(10_000);
        assert!(parse(&deep, &[]).is_err());
        assert!(parse(&format!("{}a", "a.".repeat(10_000)), &[]).is_err());
        // At the limit, evaluation and drop still fit a thread's stack.
        let limit = format!("{}a{}", "(!".repeat(90), ")".repeat(90));
        assert!(eval(&limit, json!({ "a": 1 })).is_ok());
        let chain = format!("a{}", ".a".repeat(150));
        assert_eq!(eval(&chain, json!({})), Ok(Value::Null));
        // Depth is nesting: long operands side by side each start afresh.
        let long = vec!["a"; 150].join(" || ");
        assert_eq!(eval(&format!("[{long}, {long}, {long}]"), json!({ "a": 1 })), Ok(json!([1, 1, 1])));
    }
}
