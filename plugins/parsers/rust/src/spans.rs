//! Byte ranges of definitions, from the tokens that bound them: the first outer
//! attribute (doc comments are attributes) or the first token, to the closing brace or
//! semicolon. `Spanned::span` would print the whole definition to find them, which
//! recurses once per level of its expressions (20,000 levels for a generated
//! `A | B | ...` chain) and can exhaust the stack.

use std::ops::Range;

use proc_macro2::Span;
use syn::{
    AttrStyle, Attribute, Fields, ForeignItemFn, ImplItem, Item, Macro, Signature, TraitItem,
    Visibility,
};

/// The range of `item`, or `None` for tokens syn could not make out (`Verbatim`).
pub fn item(item: &Item) -> Option<Range<usize>> {
    let (attrs, first, last) = match item {
        Item::Const(c) => (
            &c.attrs,
            vis(&c.vis, c.const_token.span),
            c.semi_token.spans[0],
        ),
        Item::Enum(e) => (
            &e.attrs,
            vis(&e.vis, e.enum_token.span),
            e.brace_token.span.close(),
        ),
        Item::ExternCrate(e) => (
            &e.attrs,
            vis(&e.vis, e.extern_token.span),
            e.semi_token.spans[0],
        ),
        Item::Fn(f) => (
            &f.attrs,
            vis(&f.vis, signature(&f.sig)),
            f.block.brace_token.span.close(),
        ),
        Item::ForeignMod(f) => (
            &f.attrs,
            f.unsafety
                .as_ref()
                .map_or(f.abi.extern_token.span, |u| u.span),
            f.brace_token.span.close(),
        ),
        Item::Impl(i) => {
            let first = (i.defaultness.as_ref().map(|d| d.span))
                .or(i.unsafety.as_ref().map(|u| u.span))
                .unwrap_or(i.impl_token.span);
            (&i.attrs, first, i.brace_token.span.close())
        }
        Item::Macro(m) => (
            &m.attrs,
            macro_start(&m.mac),
            m.semi_token
                .as_ref()
                .map_or_else(|| m.mac.delimiter.span().close(), |s| s.spans[0]),
        ),
        Item::Mod(m) => {
            let last = match (&m.content, &m.semi) {
                (Some((brace, _)), _) => brace.span.close(),
                (None, Some(semi)) => semi.spans[0],
                (None, None) => m.ident.span(),
            };
            let first = m.unsafety.as_ref().map_or(m.mod_token.span, |u| u.span);
            (&m.attrs, vis(&m.vis, first), last)
        }
        Item::Static(s) => (
            &s.attrs,
            vis(&s.vis, s.static_token.span),
            s.semi_token.spans[0],
        ),
        Item::Struct(s) => {
            let last = match (&s.semi_token, &s.fields) {
                (Some(semi), _) => semi.spans[0],
                (None, Fields::Named(fields)) => fields.brace_token.span.close(),
                (None, Fields::Unnamed(fields)) => fields.paren_token.span.close(),
                (None, Fields::Unit) => s.ident.span(),
            };
            (&s.attrs, vis(&s.vis, s.struct_token.span), last)
        }
        Item::Trait(t) => {
            let first = (t.unsafety.as_ref().map(|u| u.span))
                .or(t.auto_token.as_ref().map(|a| a.span))
                .unwrap_or(t.trait_token.span);
            (&t.attrs, vis(&t.vis, first), t.brace_token.span.close())
        }
        Item::TraitAlias(t) => (
            &t.attrs,
            vis(&t.vis, t.trait_token.span),
            t.semi_token.spans[0],
        ),
        Item::Type(t) => (
            &t.attrs,
            vis(&t.vis, t.type_token.span),
            t.semi_token.spans[0],
        ),
        Item::Union(u) => (
            &u.attrs,
            vis(&u.vis, u.union_token.span),
            u.fields.brace_token.span.close(),
        ),
        Item::Use(u) => (
            &u.attrs,
            vis(&u.vis, u.use_token.span),
            u.semi_token.spans[0],
        ),
        _ => return None,
    };
    Some(range(attrs, first, last))
}

/// The range of a member of an `impl` block.
pub fn impl_item(item: &ImplItem) -> Option<Range<usize>> {
    let (attrs, first, last) = match item {
        ImplItem::Fn(f) => {
            let first = f
                .defaultness
                .as_ref()
                .map_or_else(|| signature(&f.sig), |d| d.span);
            (
                &f.attrs,
                vis(&f.vis, first),
                f.block.brace_token.span.close(),
            )
        }
        ImplItem::Const(c) => {
            let first = c
                .defaultness
                .as_ref()
                .map_or(c.const_token.span, |d| d.span);
            (&c.attrs, vis(&c.vis, first), c.semi_token.spans[0])
        }
        ImplItem::Type(t) => {
            let first = t.defaultness.as_ref().map_or(t.type_token.span, |d| d.span);
            (&t.attrs, vis(&t.vis, first), t.semi_token.spans[0])
        }
        ImplItem::Macro(m) => (
            &m.attrs,
            macro_start(&m.mac),
            m.semi_token
                .as_ref()
                .map_or_else(|| m.mac.delimiter.span().close(), |s| s.spans[0]),
        ),
        _ => return None,
    };
    Some(range(attrs, first, last))
}

/// The range of a member of a trait.
pub fn trait_item(item: &TraitItem) -> Option<Range<usize>> {
    let (attrs, first, last) = match item {
        TraitItem::Fn(f) => {
            let last = match (&f.default, &f.semi_token) {
                (Some(block), _) => block.brace_token.span.close(),
                (None, Some(semi)) => semi.spans[0],
                (None, None) => f.sig.paren_token.span.close(),
            };
            (&f.attrs, signature(&f.sig), last)
        }
        TraitItem::Const(c) => (&c.attrs, c.const_token.span, c.semi_token.spans[0]),
        TraitItem::Type(t) => (&t.attrs, t.type_token.span, t.semi_token.spans[0]),
        _ => return None,
    };
    Some(range(attrs, first, last))
}

/// The range of a function declared in an `extern` block.
pub fn foreign_fn(f: &ForeignItemFn) -> Range<usize> {
    range(
        &f.attrs,
        vis(&f.vis, signature(&f.sig)),
        f.semi_token.spans[0],
    )
}

/// From the first outer attribute, or else `first`, to the end of `last`.
fn range(attrs: &[Attribute], first: Span, last: Span) -> Range<usize> {
    let start = attrs
        .iter()
        .filter(|attr| matches!(attr.style, AttrStyle::Outer))
        .map(|attr| attr.pound_token.spans[0].byte_range().start)
        .chain([first.byte_range().start])
        .min()
        .unwrap_or_default();
    start..last.byte_range().end.max(start)
}

/// `pub`, `pub(crate)`, ... when written, else what follows.
fn vis(vis: &Visibility, next: Span) -> Span {
    match vis {
        Visibility::Public(public) => public.span,
        Visibility::Restricted(restricted) => restricted.pub_token.span,
        Visibility::Inherited => next,
    }
}

/// The first token of a function's signature: `const`, `async`, `unsafe`, `extern` or
/// `fn`.
fn signature(sig: &Signature) -> Span {
    (sig.constness.as_ref().map(|c| c.span))
        .or(sig.asyncness.as_ref().map(|a| a.span))
        .or(sig.unsafety.as_ref().map(|u| u.span))
        .or(sig.abi.as_ref().map(|abi| abi.extern_token.span))
        .unwrap_or(sig.fn_token.span)
}

/// The first token of a macro call: its path.
fn macro_start(mac: &Macro) -> Span {
    match (&mac.path.leading_colon, mac.path.segments.first()) {
        (Some(colon), _) => colon.spans[0],
        (None, Some(segment)) => segment.ident.span(),
        (None, None) => mac.bang_token.spans[0],
    }
}
